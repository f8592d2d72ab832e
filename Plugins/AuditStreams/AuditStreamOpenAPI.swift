/// OpenAPI path items of the audit log stream routes.
enum AuditStreamOpenAPI {
    static func op(_ summary: String, body: Bool = false, stream: Bool = false) -> String {
        let schema = """
            {"type":"object","properties":{"name":{"type":"string","maxLength":128},"kind":{"type":"string","enum":["webhook","syslog","file"]},
            "startFrom":{"type":"string","enum":["now","beginning"]},"url":{"type":"string","maxLength":2048},"secret":{"type":"string","maxLength":1024,"writeOnly":true},
            "headers":{"type":"object","additionalProperties":{"type":"string","maxLength":4096}},"host":{"type":"string","maxLength":253},
            "port":{"type":"integer","minimum":1,"maximum":65535},"tls":{"type":"boolean"},"caCert":{"type":"string","maxLength":65536},"path":{"type":"string","maxLength":1024}}}
            """
        let request = body ? #","requestBody":{"required":true,"content":{"application/json":{"schema":\#(schema)}}}"# : ""
        let params = [#"{"name":"orgId","in":"path","required":true,"schema":{"type":"string","maxLength":64}}"#]
            + (stream ? [#"{"name":"streamId","in":"path","required":true,"schema":{"type":"string","maxLength":64}}"#] : [])
        return """
            {"summary":"\(summary)","tags":["audit"],"security":[{"bearerAuth":[]}],"parameters":[\(params.joined(separator: ","))]\(request),
            "responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"type":"object"}}}},
            "400":{"description":"Bad request"},"401":{"description":"Unauthenticated"},"403":{"description":"Forbidden"},
            "404":{"description":"Not found"},"409":{"description":"Conflict"},"422":{"description":"Invalid body"}}}
            """
    }

    static let paths: [String: String] = [
        "/api/v1/organizations/{orgId}/audit-log-streams":
            "{\"post\":\(op("Create an audit log stream (file streams: instance admin)", body: true)),\"get\":\(op("List the organization's audit log streams with their delivery status"))}",
        "/api/v1/organizations/{orgId}/audit-log-streams/{streamId}": """
            {"get":\(op("Get an audit log stream and its delivery status", stream: true)),"patch":\(op("Update an audit log stream", body: true, stream: true)),
            "delete":\(op("Delete an audit log stream", stream: true))}
            """,
    ]
}
