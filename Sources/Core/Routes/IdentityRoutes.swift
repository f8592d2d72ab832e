import Hummingbird

/// Machine identities of an organization. Managing them takes the org admin role; any member
/// may read them.
public struct IdentityRoutes: Sendable {
    let platform: Platform

    public init(platform: Platform) { self.platform = platform }

    public func register(authenticated: RouterGroup<KMSRequestContext>) {
        authenticated.post("/api/v1/identities", use: create)
        authenticated.get("/api/v1/identities", use: list)
        authenticated.get("/api/v1/identities/{identityId}", use: get)
        authenticated.patch("/api/v1/identities/{identityId}", use: update)
        authenticated.delete("/api/v1/identities/{identityId}", use: delete)
    }

    struct CreateInput: Decodable { let name: String; let organizationId: String; let role: String? }
    struct UpdateInput: Decodable { let name: String?; let role: String? }
    struct One: Encodable, Sendable { let identity: Identity }
    struct Many: Encodable, Sendable { let identities: [Identity] }

    @Sendable func create(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let principal = try context.requirePrincipal()
        let input = try await request.json(CreateInput.self, context: context)
        try await platform.authorizer.requireOrg(principal, orgId: input.organizationId, .admin, action: "create identities", request: context.requestInfo)
        let role = try OrgRole.parse(input.role ?? OrgRole.member.rawValue)
        let identity = try await platform.identities.create(orgId: input.organizationId, name: input.name, role: role)
        try await platform.audit.record(AuditEvent("identity-created", orgId: identity.orgId, actor: principal.auditActor, ipAddress: context.clientIP,
                                                   userAgent: context.userAgent, metadata: ["identityId": identity.id, "name": identity.name, "role": role.rawValue]))
        return JSONResponse(One(identity: identity))
    }

    @Sendable func list(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<Many> {
        let principal = try context.requirePrincipal()
        let orgId = try request.query("orgId")
        try await platform.authorizer.requireOrg(principal, orgId: orgId, .member, action: "list identities", request: context.requestInfo)
        return JSONResponse(Many(identities: try await platform.identities.list(orgId: orgId)))
    }

    func load(_ context: KMSRequestContext, _ minimum: OrgRole, action: String) async throws -> (Principal, Identity) {
        try await context.identity(platform, minimum, action: action)
    }

    @Sendable func get(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (_, identity) = try await load(context, .member, action: "read identities")
        return JSONResponse(One(identity: identity))
    }

    @Sendable func update(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (principal, identity) = try await load(context, .admin, action: "update identities")
        let input = try await request.json(UpdateInput.self, context: context)
        let role = try input.role.map { try OrgRole.parse($0) }
        guard let updated = try await platform.identities.update(id: identity.id, orgId: identity.orgId, name: input.name, role: role) else {
            throw APIError.notFound("identity not found")
        }
        // Cached tokens carry the identity's role.
        try await platform.tokens.invalidateCaches()
        try await platform.audit.record(AuditEvent("identity-updated", orgId: identity.orgId, actor: principal.auditActor, ipAddress: context.clientIP,
                                                   userAgent: context.userAgent, metadata: ["identityId": identity.id, "name": updated.name, "role": updated.role]))
        return JSONResponse(One(identity: updated))
    }

    @Sendable func delete(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (principal, identity) = try await load(context, .admin, action: "delete identities")
        guard try await platform.identities.delete(id: identity.id, orgId: identity.orgId, tokens: platform.tokens) else {
            throw APIError.notFound("identity not found")
        }
        try await platform.audit.record(AuditEvent("identity-deleted", orgId: identity.orgId, actor: principal.auditActor, ipAddress: context.clientIP,
                                                   userAgent: context.userAgent, metadata: ["identityId": identity.id, "name": identity.name]))
        return JSONResponse(One(identity: identity))
    }
}
