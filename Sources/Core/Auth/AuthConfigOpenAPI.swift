/// OpenAPI path items for an identity auth provider: the config routes Core serves for it
/// (attach, get, update, revoke) and its login route, so a provider only describes its own
/// fields.
public enum AuthConfigOpenAPI {
    /// The standard fields of every attach / update body (access-token settings and lockout).
    public static let standardFields = """
        "accessTokenTrustedIps":\(trustedIPs),"accessTokenTTL":{"type":"integer","minimum":0},"accessTokenMaxTTL":{"type":"integer","minimum":0},
        "accessTokenNumUsesLimit":{"type":"integer","minimum":0},"lockoutEnabled":{"type":"boolean"},"lockoutThreshold":{"type":"integer","minimum":1,"maximum":100},
        "lockoutDurationSeconds":{"type":"integer","minimum":1,"maximum":86400},"lockoutCounterResetSeconds":{"type":"integer","minimum":1,"maximum":86400}
        """
    public static let trustedIPs = #"{"type":"array","items":{"type":"object","properties":{"ipAddress":{"type":"string","maxLength":64}},"required":["ipAddress"]}}"#

    /// One operation. `params` are path parameters; `auth: false` for login routes.
    public static func operation(_ summary: String, tag: String, auth: Bool = true, body: String? = nil, params: [String] = ["identityId"]) -> String {
        let request = body.map { #","requestBody":{"required":true,"content":{"application/json":{"schema":\#($0)}}}"# } ?? ""
        let parameters = params.isEmpty ? "" : ",\"parameters\":[" + params.map { #"{"name":"\#($0)","in":"path","required":true,"schema":{"type":"string","maxLength":128}}"# }.joined(separator: ",") + "]"
        let security = auth ? #"[{"bearerAuth":[]}]"# : "[]"
        return """
            {"summary":"\(summary)","tags":["\(tag)"],"security":\(security)\(parameters)\(request),
            "responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"type":"object"}}}},
            "400":{"description":"Bad request"},"401":{"description":"Unauthenticated"},"403":{"description":"Forbidden"},
            "404":{"description":"Not found"},"422":{"description":"Invalid body"},"429":{"description":"Locked out or rate limited"},
            "502":{"description":"An upstream the method depends on failed"}}}
            """
    }

    /// The config routes and the login route of `provider`. `ownFields` are the provider's
    /// properties (JSON members, without braces); `required` those an attach needs.
    public static func paths(method: String, displayName: String, ownFields: String, required: [String] = [], login: String) -> [String: String] {
        let requiredList = required.isEmpty ? "" : #""required":["# + required.map { "\"\($0)\"" }.joined(separator: ",") + "],"
        let attach = #"{"type":"object",\#(requiredList)"properties":{\#(ownFields),\#(standardFields)}}"#
        let update = #"{"type":"object","properties":{\#(ownFields),\#(standardFields)}}"#
        return [
            "/api/v1/auth/\(method)/identities/{identityId}": """
                {"post":\(operation("Attach \(displayName) to an identity", tag: method, body: attach)),
                 "patch":\(operation("Update an identity's \(displayName)", tag: method, body: update)),
                 "get":\(operation("Get an identity's \(displayName)", tag: method)),
                 "delete":\(operation("Revoke \(displayName) and every token it issued", tag: method))}
                """,
            "/api/v1/auth/\(method)/login": "{\"post\":\(operation("Log in with \(displayName)", tag: method, auth: false, body: login, params: []))}",
        ]
    }
}
