import Core

/// Universal Auth's form in the web console, with its client secrets.
enum UniversalAuthConsoleForm {
    static let form = ConsoleForm(
        target: .identityAuth(method: "universal-auth"), title: "Universal Auth",
        summary: "A client ID and client secrets, for workloads anywhere.",
        fields: [ConsoleField("clientSecretTrustedIps", "Client secret trusted IPs (one per line)", .ipList, defaultValue: "0.0.0.0/0\n::/0")],
        actions: [ConsoleCredentialAction(
            title: "Create client secret", path: "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets",
            fields: [ConsoleField("description", "Description"),
                     ConsoleField("numUsesLimit", "Uses (0 = unlimited)", .number, defaultValue: "0"),
                     ConsoleField("ttl", "TTL in seconds (0 = never expires)", .number, defaultValue: "0")],
            reveal: ["clientSecret"],
            list: .init(path: "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets", key: "clientSecretData",
                        columns: [("description", "Description"), ("clientSecretPrefix", "Starts with"), ("clientSecretNumUses", "Uses"),
                                  ("isClientSecretRevoked", "Revoked"), ("createdAt", "Created")],
                        revokePath: "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets/{id}/revoke"))])
}
