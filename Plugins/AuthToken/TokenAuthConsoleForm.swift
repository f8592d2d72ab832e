import Core

/// Token Auth in the web console: no fields of its own; tokens are made from its page.
enum TokenAuthConsoleForm {
    static let form = ConsoleForm(
        target: .identityAuth(method: "token-auth"), title: "Token Auth",
        summary: "Long-lived access tokens made here, for workloads that cannot use another method.",
        fields: [],
        actions: [ConsoleCredentialAction(title: "Create token", path: "/api/v1/auth/token-auth/identities/{identityId}/tokens",
                                          fields: [ConsoleField("name", "Token name", placeholder: "ci-runner")], reveal: ["accessToken"])])
}
