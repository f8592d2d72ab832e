import Core

/// OpenAPI path items of the Universal Auth routes.
enum UniversalAuthOpenAPI {
    static let fields = #""clientSecretTrustedIps":\#(AuthConfigOpenAPI.trustedIPs)"#
    static let secret = """
        {"type":"object","properties":{"description":{"type":"string","maxLength":256},"numUsesLimit":{"type":"integer","minimum":0},
        "ttl":{"type":"integer","minimum":0,"maximum":315360000}}}
        """
    static let login = """
        {"type":"object","required":["clientId","clientSecret"],"properties":{"clientId":{"type":"string","maxLength":256},"clientSecret":{"type":"string","maxLength":512}}}
        """

    static func op(_ summary: String, body: String? = nil, params: [String] = ["identityId"]) -> String {
        AuthConfigOpenAPI.operation(summary, tag: "universal-auth", body: body, params: params)
    }

    static let paths: [String: String] = AuthConfigOpenAPI.paths(method: "universal-auth", displayName: "Universal Auth", ownFields: fields, login: login)
        .merging([
            "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets": """
                {"post":\(op("Create a client secret (shown once)", body: secret)),"get":\(op("List client secrets (prefixes only)"))}
                """,
            "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets/{clientSecretId}":
                "{\"get\":\(op("Get a client secret's data", params: ["identityId", "clientSecretId"]))}",
            "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets/{clientSecretId}/revoke":
                "{\"post\":\(op("Revoke a client secret", params: ["identityId", "clientSecretId"]))}",
        ]) { a, _ in a }
}
