import Core

/// OIDC Auth's form in the web console.
enum OIDCAuthConsoleForm {
    static let form = ConsoleForm(
        target: .identityAuth(method: "oidc-auth"), title: "OIDC Auth",
        summary: "Workloads log in with a JWT from their platform (CI systems, Kubernetes).",
        fields: [
            ConsoleField("oidcDiscoveryUrl", "Discovery URL", required: true, help: "https only.", placeholder: "https://token.actions.githubusercontent.com"),
            ConsoleField("boundIssuer", "Bound issuer", required: true),
            ConsoleField("boundAudiences", "Bound audiences", required: true, help: "Comma-separated."),
            ConsoleField("boundSubject", "Bound subject", help: "* globs; a subject or a bound claim is required."),
            ConsoleField("boundClaims", "Bound claims", .keyValues, help: "One claim=allowed,values per line; * globs."),
            ConsoleField("caCert", "CA certificate (PEM)", .textarea),
        ])
}
