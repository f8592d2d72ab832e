/// OpenAPI path items of the AWS Auth routes.
enum AWSAuthOpenAPI {
    static let config = """
        {"type":"object","properties":{"stsEndpoint":{"type":"string","maxLength":256},"allowedPrincipalArns":{"type":"string","maxLength":4096},
        "allowedAccountIds":{"type":"string","maxLength":4096},"iamServerIdHeaderValue":{"type":"string","maxLength":256,
        "description":"When set, a login's signed headers must include X-KMS-AWS-IAM-Server-ID with this value (listed in SignedHeaders), so a signature made for this server cannot be replayed to another."},
        "accessTokenTTL":{"type":"integer","minimum":0},"accessTokenMaxTTL":{"type":"integer","minimum":0},"accessTokenNumUsesLimit":{"type":"integer","minimum":0},
        "accessTokenTrustedIps":{"type":"array","items":{"type":"object","properties":{"ipAddress":{"type":"string","maxLength":64}},"required":["ipAddress"]}}}}
        """
    static func op(_ summary: String, auth: Bool = true, body: String? = nil, identityParam: Bool = true) -> String {
        let request = body.map { #","requestBody":{"required":true,"content":{"application/json":{"schema":\#($0)}}}"# } ?? ""
        let params = identityParam ? #","parameters":[{"name":"identityId","in":"path","required":true,"schema":{"type":"string","maxLength":64}}]"# : ""
        let security = auth ? #"[{"bearerAuth":[]}]"# : "[]"
        return """
            {"summary":"\(summary)","tags":["aws-auth"],"security":\(security)\(params)\(request),
            "responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"type":"object"}}}},
            "400":{"description":"Bad request"},"401":{"description":"Unauthenticated"},"403":{"description":"Forbidden"},
            "404":{"description":"Not found"},"422":{"description":"Invalid body"},"502":{"description":"AWS STS failed"}}}
            """
    }
    static let login = """
        {"type":"object","required":["identityId","iamHttpRequestMethod","iamRequestBody","iamRequestHeaders"],"properties":{
        "identityId":{"type":"string","maxLength":64},"iamHttpRequestMethod":{"type":"string","maxLength":8},
        "iamRequestBody":{"type":"string","maxLength":4096},"iamRequestHeaders":{"type":"string","maxLength":16384,
        "description":"Base64 of a JSON object of the signed request's headers (Host, X-Amz-Date, Authorization, ...). When the identity sets iamServerIdHeaderValue it must contain X-KMS-AWS-IAM-Server-ID, also listed in the signature's SignedHeaders."},"iamRequestUrl":{"type":"string","maxLength":1024}}}
        """
    static let edge = """
        {"type":"object","required":["clientId","client"],"properties":{"clientId":{"type":"string","maxLength":64},
        "client":{"type":"object","required":["aws"],"properties":{"aws":{"type":"object","required":["stsGetCallerIdentity"],"properties":{
        "stsGetCallerIdentity":{"type":"object","required":["headers","region"],"properties":{"headers":{"type":"object","additionalProperties":{"type":"string"}},
        "region":{"type":"string","maxLength":32}}}}}}}}}
        """
    static let paths: [String: String] = [
        "/api/v1/auth/aws-auth/identities/{identityId}": """
            {"post":\(op("Attach AWS Auth to an identity", body: config)),"patch":\(op("Update an identity's AWS Auth", body: config)),
             "get":\(op("Get an identity's AWS Auth")),"delete":\(op("Revoke AWS Auth and every token it issued"))}
            """,
        "/api/v1/auth/aws-auth/login": "{\"post\":\(op("Log in with a signed STS GetCallerIdentity request", auth: false, body: login, identityParam: false))}",
        "/edge/v1/auth": "{\"post\":\(op("Aembit Edge login with a signed STS GetCallerIdentity request", auth: false, body: edge, identityParam: false))}",
    ]
}
