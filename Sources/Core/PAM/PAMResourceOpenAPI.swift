/// OpenAPI path items of one PAM provider's resource and account routes
/// (``PAMResourceRoutes``), from the provider's own schemas.
public enum PAMResourceOpenAPI {
    static func operation(_ summary: String, body: String? = nil, params: [String] = []) -> String {
        let request = body.map { #","requestBody":{"required":true,"content":{"application/json":{"schema":\#($0)}}}"# } ?? ""
        let parameters = params.isEmpty ? "" : #","parameters":["# + params.map {
            #"{"name":"\#($0)","in":"path","required":true,"schema":{"type":"string","maxLength":64}}"#
        }.joined(separator: ",") + "]"
        return """
            {"summary":"\(summary)","tags":["pam"],"security":[{"bearerAuth":[]}]\(parameters)\(request),
            "responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"type":"object"}}}},
            "400":{"description":"Bad request"},"401":{"description":"Unauthenticated"},"403":{"description":"Forbidden"},
            "404":{"description":"Not found"},"409":{"description":"Conflict"},"422":{"description":"Invalid body"},"502":{"description":"The cloud failed"}}}
            """
    }

    /// `connectionDetails` and `credentials` are the provider's JSON schemas of those objects.
    public static func paths(resourceType type: String, displayName: String, connectionDetails: String, credentials: String) -> [String: String] {
        let resource = #"{"type":"object","properties":{"projectId":{"type":"string","maxLength":64},"name":{"type":"string","maxLength":128},"connectionDetails":\#(connectionDetails)}}"#
        let policy = #"{"type":"object","properties":{"requiresApproval":{"type":"boolean"},"approvers":{"type":"array","maxItems":50,"items":{"type":"string","maxLength":254}},"minApprovals":{"type":"integer","minimum":1,"maximum":10},"maxDuration":{"type":["integer","string"]},"requireReason":{"type":"boolean"}}}"#
        let account = #"{"type":"object","required":["resourceId","name","credentials"],"properties":{"resourceId":{"type":"string","maxLength":64},"name":{"type":"string","maxLength":128},"description":{"type":"string","maxLength":512},"credentials":\#(credentials),"accessPolicy":\#(policy)}}"#
        let accountUpdate = #"{"type":"object","properties":{"name":{"type":"string","maxLength":128},"description":{"type":"string","maxLength":512},"credentials":\#(credentials),"accessPolicy":\#(policy)}}"#
        return [
            "/api/v1/pam/resources/\(type)": "{\"post\":\(operation("Create a \(displayName) PAM resource (validated against the cloud)", body: resource))}",
            "/api/v1/pam/resources/\(type)/{resourceId}": """
                {"get":\(operation("Get a PAM resource", params: ["resourceId"])),"patch":\(operation("Update a PAM resource", body: resource, params: ["resourceId"])),
                "delete":\(operation("Delete a PAM resource and its accounts", params: ["resourceId"]))}
                """,
            "/api/v1/pam/accounts/\(type)": "{\"post\":\(operation("Create a \(displayName) PAM account on a resource", body: account))}",
            "/api/v1/pam/accounts/\(type)/{accountId}": "{\"patch\":\(operation("Update a PAM account (its access policy too)", body: accountUpdate, params: ["accountId"]))}",
        ]
    }
}
