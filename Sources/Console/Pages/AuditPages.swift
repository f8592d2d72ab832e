import Core
import Foundation
import Hummingbird

/// The audit log: filters, pages of 50, each entry's detail, and "Verify chain".
struct AuditPages: Sendable {
    let app: ConsoleApp
    let routes: ConsoleRoutes
    static let pageSize = 50

    func register(_ group: RouterGroup<KMSRequestContext>) {
        group.get("/audit") { request, context in try await routes.page(request, context) { try await list($0, request) } }
    }

    func list(_ call: ConsoleCall, _ request: Request) async throws -> Response {
        guard call.session.orgRole == "admin" else { throw ConsolePageFailure(status: .forbidden, message: "Only organization admins read the audit log.") }
        let q = request.uri.queryParameters
        func value(_ k: String) -> String { q.get(k)?.trimmingCharacters(in: .whitespaces) ?? "" }
        let before = Int64(value("before")).flatMap { $0 > 0 ? $0 : nil }
        var filters: [(String, String)] = []
        for key in ["eventType", "actorId", "projectId"] where !value(key).isEmpty { filters.append((key, value(key))) }
        // Dates come from date inputs (YYYY-MM-DD): the start of the first day to the end of the last.
        if !value("from").isEmpty { filters.append(("startDate", value("from") + "T00:00:00Z")) }
        if !value("to").isEmpty { filters.append(("endDate", value("to") + "T23:59:59.999Z")) }
        let query = filters.map { "\($0.0)=\(urlPart($0.1))" }
        let org = urlPart(call.session.orgId)
        let answer = try await call.api(.get, "/api/v1/organizations/\(org)/audit-logs?" + (query + (before.map { ["before=\($0)"] } ?? []) + ["limit=\(Self.pageSize)"]).joined(separator: "&"))
        var data: [String: Any] = ["eventType": value("eventType"), "actorId": value("actorId"), "projectId": value("projectId"),
                                   "from": value("from"), "to": value("to")]
        if answer.ok {
            let entries = answer.body["auditLogs"]?.array ?? []
            data["entries"] = entries.map { e -> [String: Any] in
                let actor = e["actor"]?["metadata"]
                let who = actor?["email"]?.string ?? actor?["name"]?.string ?? actor?["identityId"]?.string ?? actor?["userId"]?.string ?? ""
                return ["id": e["id"]?.string ?? "", "eventType": e["eventType"]?.string ?? "", "createdAt": e["createdAt"]?.string ?? "",
                        "actorType": e["actor"]?["type"]?.string ?? "", "actor": who, "ip": e["ipAddress"]?.string ?? "",
                        "projectId": e["projectId"]?.string ?? "", "json": Self.pretty(e)]
            }
            data["empty"] = entries.isEmpty
            // Keyset pages (cheap however deep): Older continues after this page's last entry.
            let base = "/audit?" + (["eventType", "actorId", "projectId", "from", "to"].filter { !value($0).isEmpty }.map { "\($0)=\(urlPart(value($0)))" } + [""]).joined(separator: "&")
            if before != nil { data["newest"] = String(base.dropLast()) }
            if let next = answer.body["nextBefore"]?.string { data["next"] = base + "before=\(urlPart(next))" }
        } else {
            data["listError"] = answer.message
        }
        if q.get("verify") != nil {
            let verify = try await call.api(.get, "/api/v1/organizations/\(org)/audit-logs/verify")
            if verify.ok {
                let checked = verify.body["checked"].flatMap { if case .number(let n) = $0 { Int(n) } else { nil } } ?? 0
                if verify.body["valid"] == .bool(true) {
                    data["verifyOk"] = "The chain is intact: \(checked) entries checked."
                } else {
                    data["verifyBroken"] = "The chain is broken at entry \(verify.body["firstBrokenId"]?.string ?? "?") (\(checked) entries checked)."
                }
            } else {
                data["verifyBroken"] = verify.message
            }
        }
        return try await call.page("audit", title: "Audit log", section: "audit", data)
    }

    static func pretty(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? ""
    }
}
