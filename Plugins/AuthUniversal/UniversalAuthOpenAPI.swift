/// OpenAPI path items of the Universal Auth routes.
enum UniversalAuthOpenAPI {
    static let ips = #"{"type":"array","items":{"type":"object","properties":{"ipAddress":{"type":"string","maxLength":64}},"required":["ipAddress"]}}"#
    static let config = """
        {"type":"object","properties":{"clientSecretTrustedIps":\(ips),"accessTokenTrustedIps":\(ips),
        "accessTokenTTL":{"type":"integer","minimum":0},"accessTokenMaxTTL":{"type":"integer","minimum":0},"accessTokenNumUsesLimit":{"type":"integer","minimum":0},
        "lockoutEnabled":{"type":"boolean"},"lockoutThreshold":{"type":"integer","minimum":1,"maximum":100},
        "lockoutDurationSeconds":{"type":"integer","minimum":1,"maximum":86400},"lockoutCounterResetSeconds":{"type":"integer","minimum":1,"maximum":86400}}}
        """
    static let secret = """
        {"type":"object","properties":{"description":{"type":"string","maxLength":256},"numUsesLimit":{"type":"integer","minimum":0},
        "ttl":{"type":"integer","minimum":0,"maximum":315360000}}}
        """
    static let login = """
        {"type":"object","required":["clientId","clientSecret"],"properties":{"clientId":{"type":"string","maxLength":256},"clientSecret":{"type":"string","maxLength":512}}}
        """

    static func op(_ summary: String, auth: Bool = true, body: String? = nil, params: [String] = ["identityId"], errors: String = "") -> String {
        let request = body.map { #","requestBody":{"required":true,"content":{"application/json":{"schema":\#($0)}}}"# } ?? ""
        let parameters = params.isEmpty ? "" : ",\"parameters\":[" + params.map { #"{"name":"\#($0)","in":"path","required":true,"schema":{"type":"string","maxLength":64}}"# }.joined(separator: ",") + "]"
        let security = auth ? #"[{"bearerAuth":[]}]"# : "[]"
        return """
            {"summary":"\(summary)","tags":["universal-auth"],"security":\(security)\(parameters)\(request),
            "responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"type":"object"}}}},
            "400":{"description":"Bad request"},"401":{"description":"Unauthenticated"},"403":{"description":"Forbidden"},
            "404":{"description":"Not found"},"422":{"description":"Invalid body"},"429":{"description":"Locked out"}}}
            """
    }

    static let paths: [String: String] = [
        "/api/v1/auth/universal-auth/identities/{identityId}": """
            {"post":\(op("Attach Universal Auth to an identity", body: config)),"patch":\(op("Update an identity's Universal Auth", body: config)),
             "get":\(op("Get an identity's Universal Auth")),"delete":\(op("Revoke Universal Auth, its client secrets and every token it issued"))}
            """,
        "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets": """
            {"post":\(op("Create a client secret (shown once)", body: secret)),"get":\(op("List client secrets (prefixes only)"))}
            """,
        "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets/{clientSecretId}":
            "{\"get\":\(op("Get a client secret's data", params: ["identityId", "clientSecretId"]))}",
        "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets/{clientSecretId}/revoke":
            "{\"post\":\(op("Revoke a client secret", params: ["identityId", "clientSecretId"]))}",
        "/api/v1/auth/universal-auth/login": "{\"post\":\(op("Log in with a client id and client secret", auth: false, body: login, params: []))}",
    ]
}
