import Core
import Foundation
import Hummingbird

/// `/api/v1/organizations/{orgId}/audit-log-streams`: an organization's streams, for its admins.
/// A `file` stream writes on the server's disk, so creating, changing or deleting one takes the
/// instance admin. Secrets and header values are sealed and never returned.
struct AuditStreamRoutes: Sendable {
    let platform: Platform
    let store: AuditStreamStore
    let validator: StreamValidator
    static let maxStreamsPerOrg = 10

    func register(_ group: RouterGroup<KMSRequestContext>) {
        let base = "/api/v1/organizations/{orgId}/audit-log-streams"
        group.post(RouterPath(base), use: create)
        group.get(RouterPath(base), use: list)
        group.get(RouterPath(base + "/{streamId}"), use: get)
        group.patch(RouterPath(base + "/{streamId}"), use: update)
        group.delete(RouterPath(base + "/{streamId}"), use: delete)
    }

    /// Delivery status; absent values are `null`, not missing, so clients can rely on the keys.
    struct Status: Encodable, Sendable {
        let lagEntries: Int64, lagSeconds: Int, lastSuccessAt: Date?, lastError: String?, failures: Int
        enum CodingKeys: String, CodingKey { case lagEntries, lagSeconds, lastSuccessAt, lastError, failures }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(lagEntries, forKey: .lagEntries)
            try c.encode(lagSeconds, forKey: .lagSeconds)
            if let lastSuccessAt { try c.encode(lastSuccessAt, forKey: .lastSuccessAt) } else { try c.encodeNil(forKey: .lastSuccessAt) }
            if let lastError { try c.encode(lastError, forKey: .lastError) } else { try c.encodeNil(forKey: .lastError) }
            try c.encode(failures, forKey: .failures)
        }
    }
    struct StreamOut: Encodable, Sendable {
        let id: String, orgId: String, name: String, kind: String
        let url: String?, host: String?, port: Int?, tls: Bool?, path: String?
        let headers: [String: String]?
        let status: Status
        let createdAt: Date, updatedAt: Date
    }
    struct One: Encodable, Sendable { let auditLogStream: StreamOut }
    struct Many: Encodable, Sendable { let auditLogStreams: [StreamOut] }

    func output(_ s: AuditStream) async throws -> StreamOut {
        let head = try await platform.audit.headSequence(orgId: s.orgId)
        let status = Status(lagEntries: max(0, head - s.cursor), lagSeconds: try await store.lagSeconds(orgId: s.orgId, cursor: s.cursor, now: platform.clock.now()),
                            lastSuccessAt: s.lastSuccessAt, lastError: s.lastError, failures: s.failures)
        let headers = s.destination.headerNames.map { Dictionary(uniqueKeysWithValues: $0.map { ($0, "****") }) }
        return StreamOut(id: s.id, orgId: s.orgId, name: s.name, kind: s.kind, url: s.destination.url, host: s.destination.host, port: s.destination.port,
                         tls: s.destination.tls, path: s.destination.path, headers: headers, status: status, createdAt: s.createdAt, updatedAt: s.updatedAt)
    }

    /// The org admin (and, for file streams, the instance admin) of the path's organization.
    func authorize(_ context: KMSRequestContext, kind: String?, action: String) async throws -> (Principal, String) {
        let principal = try context.requirePrincipal()
        let orgId = try context.parameter("orgId")
        try await platform.authorizer.requireOrg(principal, orgId: orgId, .admin, action: action, request: context.requestInfo)
        if kind == "file" { try await platform.authorizer.requireInstanceAdmin(principal, action: "\(action) (file streams write on the server)", request: context.requestInfo) }
        return (principal, orgId)
    }

    /// A file stream writes on the server: changing or deleting one takes the instance admin.
    func requireInstanceAdminForFiles(_ principal: Principal, _ s: AuditStream, _ context: KMSRequestContext) async throws {
        guard s.kind == "file" else { return }
        try await platform.authorizer.requireInstanceAdmin(principal, action: "manage audit log streams (file streams write on the server)",
                                                           request: context.requestInfo)
    }

    func stream(_ context: KMSRequestContext, orgId: String) async throws -> AuditStream {
        guard let s = try await store.find(id: try context.parameter("streamId"), orgId: orgId) else { throw APIError.notFound("stream not found") }
        return s
    }

    func audit(_ event: String, _ principal: Principal, _ s: AuditStream, _ context: KMSRequestContext) async throws {
        try await platform.audit.record(AuditEvent(event, orgId: s.orgId, actor: principal.auditActor, ipAddress: context.clientIP, userAgent: context.userAgent,
                                                   metadata: ["streamId": s.id, "name": s.name, "kind": s.kind,
                                                              // A webhook URL may carry a token (Slack, HEC): only its host is recorded.
                                                              "destination": s.destination.url.flatMap { URLComponents(string: $0)?.host } ?? s.destination.host.map { "\($0):\(s.destination.port ?? 0)" } ?? s.destination.path ?? ""]))
    }

    @Sendable func create(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let input = try await request.json(StreamInput.self, context: context)
        let kind = input.kind ?? ""
        guard StreamValidator.kinds.contains(kind) else { throw APIError.badRequest("kind must be webhook, syslog or file") }
        let (principal, orgId) = try await authorize(context, kind: kind, action: "manage audit log streams")
        let name = try Validate.name(input.name, field: "name")
        guard try await store.count(orgId: orgId) < Self.maxStreamsPerOrg else {
            throw APIError.badRequest("an organization may have at most \(Self.maxStreamsPerOrg) audit log streams")
        }
        let startFrom = input.startFrom ?? "now"
        guard ["now", "beginning"].contains(startFrom) else { throw APIError.badRequest("startFrom must be now or beginning") }
        let (destination, secrets) = try await validator.validate(kind: kind, input: input, current: nil)
        let cursor = startFrom == "beginning" ? 0 : try await platform.audit.headSequence(orgId: orgId)
        let created = try await store.create(orgId: orgId, name: name, kind: kind, destination: destination, secrets: secrets, cursor: cursor)
        try await audit("audit-stream-created", principal, created, context)
        return JSONResponse(One(auditLogStream: try await output(created)))
    }

    @Sendable func list(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<Many> {
        let (_, orgId) = try await authorize(context, kind: nil, action: "read audit log streams")
        var out: [StreamOut] = []
        for s in try await store.list(orgId: orgId) { out.append(try await output(s)) }
        return JSONResponse(Many(auditLogStreams: out))
    }

    @Sendable func get(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (_, orgId) = try await authorize(context, kind: nil, action: "read audit log streams")
        return JSONResponse(One(auditLogStream: try await output(try await stream(context, orgId: orgId))))
    }

    @Sendable func update(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (principal, orgId) = try await authorize(context, kind: nil, action: "manage audit log streams")
        let current = try await stream(context, orgId: orgId)
        try await requireInstanceAdminForFiles(principal, current, context)
        let input = try await request.json(StreamInput.self, context: context)
        guard input.kind == nil || input.kind == current.kind else { throw APIError.badRequest("a stream's kind cannot change; create another stream") }
        let name = try input.name.map { try Validate.name($0, field: "name") } ?? current.name
        let (destination, secrets) = try await validator.validate(kind: current.kind, input: input, current: (current.destination, current.secrets))
        let updated = try await store.update(current, name: name, destination: destination, secrets: secrets)
        try await audit("audit-stream-updated", principal, updated, context)
        return JSONResponse(One(auditLogStream: try await output(updated)))
    }

    @Sendable func delete(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (principal, orgId) = try await authorize(context, kind: nil, action: "manage audit log streams")
        let current = try await stream(context, orgId: orgId)
        try await requireInstanceAdminForFiles(principal, current, context)
        let answer = try await output(current)
        try await store.delete(current)
        try await audit("audit-stream-deleted", principal, current, context)
        return JSONResponse(One(auditLogStream: answer))
    }
}
