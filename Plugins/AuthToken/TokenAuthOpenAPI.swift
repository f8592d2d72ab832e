/// OpenAPI path items of the Token Auth routes.
enum TokenAuthOpenAPI {
    static let settings = """
        {"type":"object","properties":{"accessTokenTTL":{"type":"integer","minimum":0},"accessTokenMaxTTL":{"type":"integer","minimum":0},
        "accessTokenNumUsesLimit":{"type":"integer","minimum":0},
        "accessTokenTrustedIps":{"type":"array","items":{"type":"object","properties":{"ipAddress":{"type":"string","maxLength":64}},"required":["ipAddress"]}}}}
        """
    static func op(_ summary: String, body: String? = nil) -> String {
        let request = body.map { #","requestBody":{"required":true,"content":{"application/json":{"schema":\#($0)}}}"# } ?? ""
        return """
            {"summary":"\(summary)","tags":["token-auth"],"security":[{"bearerAuth":[]}],
            "parameters":[{"name":"identityId","in":"path","required":true,"schema":{"type":"string","maxLength":64}}]\(request),
            "responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"type":"object"}}}},
            "400":{"description":"Bad request"},"401":{"description":"Unauthenticated"},"403":{"description":"Forbidden"},
            "404":{"description":"Not found"},"422":{"description":"Invalid body"}}}
            """
    }
    static let paths: [String: String] = [
        "/api/v1/auth/token-auth/identities/{identityId}": """
            {"post":\(op("Attach Token Auth to an identity", body: settings)),"get":\(op("Get an identity's Token Auth")),
             "patch":\(op("Update an identity's Token Auth", body: settings)),"delete":\(op("Revoke Token Auth and its tokens"))}
            """,
        "/api/v1/auth/token-auth/identities/{identityId}/tokens": """
            {"post":\(op("Create an access token", body: #"{"type":"object","properties":{"name":{"type":"string","maxLength":128}}}"#))}
            """,
    ]
}
