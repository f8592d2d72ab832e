import Core

/// OpenAPI path items of the OIDC Auth routes.
enum OIDCAuthOpenAPI {
    static let fields = """
        "oidcDiscoveryUrl":{"type":"string","maxLength":2048},"caCert":{"type":"string","maxLength":65536},
        "boundIssuer":{"type":"string","maxLength":1024},"boundAudiences":{"type":"string","maxLength":26000},
        "boundClaims":{"type":"object","additionalProperties":{"type":"string","maxLength":4096}},"boundSubject":{"type":"string","maxLength":1024}
        """
    static let login = """
        {"type":"object","required":["identityId","jwt"],"properties":{"identityId":{"type":"string","maxLength":128},"jwt":{"type":"string","maxLength":16384}}}
        """
    static let paths = AuthConfigOpenAPI.paths(method: "oidc-auth", displayName: "OIDC Auth", ownFields: fields,
                                               required: ["oidcDiscoveryUrl", "boundIssuer", "boundAudiences"], login: login)
}
