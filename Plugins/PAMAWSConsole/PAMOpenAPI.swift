/// OpenAPI path items of the PAM routes.
enum PAMOpenAPI {
    static func op(_ summary: String, body: String? = nil, params: [String] = []) -> String {
        let request = body.map { #","requestBody":{"required":true,"content":{"application/json":{"schema":\#($0)}}}"# } ?? ""
        let p = params.isEmpty ? "" : #","parameters":["# + params.map { name in
            name == "projectId"
                ? #"{"name":"projectId","in":"query","required":true,"schema":{"type":"string","maxLength":64}}"#
                : #"{"name":"\#(name)","in":"path","required":true,"schema":{"type":"string","maxLength":64}}"#
        }.joined(separator: ",") + "]"
        return """
            {"summary":"\(summary)","tags":["pam"],"security":[{"bearerAuth":[]}]\(p)\(request),
            "responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"type":"object"}}}},
            "400":{"description":"Bad request"},"401":{"description":"Unauthenticated"},"403":{"description":"Forbidden"},
            "404":{"description":"Not found"},"409":{"description":"Conflict"},"422":{"description":"Invalid body"},"502":{"description":"AWS failed"}}}
            """
    }
    static let resource = #"{"type":"object","properties":{"projectId":{"type":"string","maxLength":64},"name":{"type":"string","maxLength":128},"connectionDetails":{"type":"object","properties":{"roleArn":{"type":"string","maxLength":256}}}}}"#
    static let account = #"{"type":"object","required":["resourceId","name","credentials"],"properties":{"resourceId":{"type":"string","maxLength":64},"name":{"type":"string","maxLength":128},"description":{"type":"string","maxLength":512},"credentials":{"type":"object","required":["targetRoleArn"],"properties":{"targetRoleArn":{"type":"string","maxLength":256},"defaultSessionDuration":{"type":["integer","string"]}}}}}"#
    static let paths: [String: String] = [
        "/api/v1/pam/resources/aws-iam": "{\"post\":\(op("Create an AWS PAM resource (validated by assuming its role)", body: resource))}",
        "/api/v1/pam/resources/aws-iam/{resourceId}": "{\"get\":\(op("Get a PAM resource", params: ["resourceId"])),\"patch\":\(op("Update a PAM resource", body: resource, params: ["resourceId"])),\"delete\":\(op("Delete a PAM resource", params: ["resourceId"]))}",
        "/api/v1/pam/accounts/aws-iam": "{\"post\":\(op("Create a PAM account on a resource", body: account))}",
    ]
}
