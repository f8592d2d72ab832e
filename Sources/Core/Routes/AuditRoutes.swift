import Foundation
import Hummingbird

/// Reading and verifying an organization's audit log (org admins only).
public struct AuditRoutes: Sendable {
    let platform: Platform

    public init(platform: Platform) { self.platform = platform }

    public func register(authenticated: RouterGroup<KMSRequestContext>) {
        authenticated.get("/api/v1/organizations/{orgId}/audit-logs", use: list)
        authenticated.get("/api/v1/organizations/{orgId}/audit-logs/verify", use: verify)
    }

    struct EntryOut: Encodable, Sendable {
        let id: String
        let eventType: String
        let actor: ActorOut
        let ipAddress: String?
        let userAgent: String?
        let orgId: String
        let projectId: String?
        let eventMetadata: [String: String]
        let createdAt: Date
    }
    struct ActorOut: Encodable, Sendable { let type: String; let metadata: [String: String] }
    struct Many: Encodable, Sendable {
        /// The `before` of the next page (ours): keyset paging, as cheap on page 1,000 as on page 1.
        let nextBefore: String?
        let auditLogs: [EntryOut]
    }

    @Sendable func list(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<Many> {
        let principal = try context.requirePrincipal()
        let orgId = try context.parameter("orgId")
        try await platform.authorizer.requireOrg(principal, orgId: orgId, .admin, action: "read the audit log", request: context.requestInfo)
        var q = AuditQuery()
        q.eventType = request.optionalQuery("eventType")
        q.actorId = request.optionalQuery("actorId")
        q.projectId = request.optionalQuery("projectId")
        q.startDate = try request.optionalQuery("startDate").map(Self.date)
        q.endDate = try request.optionalQuery("endDate").map(Self.date)
        if let v = request.optionalQuery("offset") {
            guard let n = Int(v), n >= 0 else { throw APIError.badRequest("offset must be a non-negative integer") }
            q.offset = n
        }
        if let v = request.optionalQuery("limit") {
            guard let n = Int(v), (1...1000).contains(n) else { throw APIError.badRequest("limit must be an integer from 1 to 1000") }
            q.limit = n
        }
        if let v = request.optionalQuery("before") {
            guard let n = Int64(v), n > 0 else { throw APIError.badRequest("before must be a positive sequence number (nextBefore of the previous page)") }
            q.before = n
        }
        let entries = try await platform.audit.list(orgId: orgId, q)
        return JSONResponse(Many(nextBefore: entries.count == q.limit ? entries.last.map { String($0.seq) } : nil, auditLogs: entries.map {
            var meta = $0.actor.metadata
            if let id = $0.actor.id { meta["id"] = id }
            return EntryOut(id: $0.id, eventType: $0.eventType, actor: ActorOut(type: $0.actor.type, metadata: meta), ipAddress: $0.ipAddress,
                            userAgent: $0.userAgent, orgId: $0.orgId, projectId: $0.projectId, eventMetadata: $0.metadata, createdAt: $0.createdAt)
        }))
    }

    static func date(_ text: String) throws -> Date {
        guard let d = ISO8601Format.parse(text) else { throw APIError.badRequest("dates must be ISO-8601, e.g. 2026-01-31T12:00:00Z") }
        return d
    }

    @Sendable func verify(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<AuditVerification> {
        let principal = try context.requirePrincipal()
        let orgId = try context.parameter("orgId")
        try await platform.authorizer.requireOrg(principal, orgId: orgId, .admin, action: "verify the audit log", request: context.requestInfo)
        var last: Int?
        if let v = request.optionalQuery("last") {
            guard let n = Int(v), n > 0 else { throw APIError.badRequest("last must be a positive number of entries") }
            last = n
        }
        return JSONResponse(try await platform.audit.verify(orgId: orgId, last: last))
    }
}
