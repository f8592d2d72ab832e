import Hummingbird

/// Projects, environments and project memberships.
public struct ProjectRoutes: Sendable {
    let platform: Platform

    public init(platform: Platform) { self.platform = platform }

    public func register(authenticated: RouterGroup<KMSRequestContext>) {
        authenticated.post("/api/v1/projects", use: create)
        authenticated.get("/api/v1/projects", use: list)
        authenticated.get("/api/v1/projects/{projectId}", use: get)
        authenticated.delete("/api/v1/projects/{projectId}", use: delete)
        authenticated.post("/api/v1/projects/{projectId}/environments", use: addEnvironment)
        authenticated.post("/api/v1/projects/{projectId}/identity-memberships/{identityId}", use: addIdentity)
        authenticated.delete("/api/v1/projects/{projectId}/identity-memberships/{identityId}", use: removeIdentity)
        authenticated.post("/api/v1/projects/{projectId}/memberships", use: addUser)
    }

    struct CreateInput: Decodable { let projectName: String; let slug: String?; let organizationId: String? }
    struct One: Encodable, Sendable { let project: Project }

    @Sendable func create(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let principal = try context.requirePrincipal()
        let input = try await request.json(CreateInput.self, context: context)
        let orgId = input.organizationId ?? principal.orgId
        try await platform.authorizer.requireOrg(principal, orgId: orgId, .member, action: "create projects", request: context.requestInfo)
        let project = try await platform.projects.create(orgId: orgId, name: input.projectName, slug: input.slug, creator: principal.subject)
        try await platform.audit.record(AuditEvent("project-created", orgId: orgId, projectId: project.id, actor: principal.auditActor,
                                                   ipAddress: context.clientIP, userAgent: context.userAgent, metadata: ["name": project.name, "slug": project.slug]))
        return JSONResponse(One(project: project))
    }

    struct Many: Encodable, Sendable { let projects: [Project] }

    /// The projects of `organizationId` (default: the caller's) that the caller sees: all of
    /// them for an org admin, else those it is a member of.
    @Sendable func list(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<Many> {
        let principal = try context.requirePrincipal()
        let orgId = request.uri.queryParameters.get("organizationId") ?? principal.orgId
        try await platform.authorizer.requireOrg(principal, orgId: orgId, .member, action: "list projects", request: context.requestInfo)
        let isAdmin = try await platform.authorizer.orgRole(principal, orgId: orgId) == .admin
        return JSONResponse(Many(projects: try await platform.projects.list(orgId: orgId, subject: principal.subject, all: isAdmin)))
    }

    /// Loads the path's project and requires `minimum` in it.
    func load(_ context: KMSRequestContext, _ minimum: ProjectRole, action: String) async throws -> (Principal, Project) {
        let principal = try context.requirePrincipal()
        guard let project = try await platform.projects.find(id: try context.parameter("projectId")) else { throw APIError.notFound("project not found") }
        try await platform.authorizer.requireProject(principal, project: project, minimum, action: action, request: context.requestInfo)
        return (principal, project)
    }

    @Sendable func get(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        JSONResponse(One(project: try await load(context, .viewer, action: "read this project").1))
    }

    @Sendable func delete(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (principal, project) = try await load(context, .admin, action: "delete this project")
        let result = try await platform.projects.delete(id: project.id, orgId: project.orgId)
        guard result.deleted else { throw APIError.notFound("project not found") }
        try await platform.audit.record(AuditEvent("project-deleted", orgId: project.orgId, projectId: project.id, actor: principal.auditActor,
                                                   ipAddress: context.clientIP, userAgent: context.userAgent,
                                                   metadata: ["name": project.name, "leasesHandedToReaper": String(result.leasesDue)]))
        return JSONResponse(One(project: project))
    }

    struct EnvironmentInput: Decodable { let name: String; let slug: String }
    struct EnvironmentOutput: Encodable, Sendable { let environment: Environment }

    @Sendable func addEnvironment(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<EnvironmentOutput> {
        let (principal, project) = try await load(context, .admin, action: "add environments")
        let input = try await request.json(EnvironmentInput.self, context: context)
        let env = try await platform.projects.addEnvironment(projectId: project.id, name: input.name, slug: input.slug)
        try await platform.audit.record(AuditEvent("environment-created", orgId: project.orgId, projectId: project.id, actor: principal.auditActor,
                                                   ipAddress: context.clientIP, userAgent: context.userAgent, metadata: ["environmentId": env.id, "slug": env.slug]))
        return JSONResponse(EnvironmentOutput(environment: env))
    }

    struct RoleInput: Decodable { let role: String }
    struct IdentityMembershipOutput: Encodable, Sendable { let identityMembership: IdentityMembership }

    @Sendable func addIdentity(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<IdentityMembershipOutput> {
        let (principal, project) = try await load(context, .admin, action: "manage project members")
        let input = try await request.json(RoleInput.self, context: context)
        let role = try ProjectRole.parse(input.role)
        guard let identity = try await platform.identities.find(id: try context.parameter("identityId")), identity.orgId == project.orgId else {
            throw APIError.notFound("identity not found")
        }
        let membership = try await platform.projects.setIdentityMembership(projectId: project.id, identityId: identity.id, role: role)
        try await platform.audit.record(AuditEvent("project-identity-membership-set", orgId: project.orgId, projectId: project.id, actor: principal.auditActor,
                                                   ipAddress: context.clientIP, userAgent: context.userAgent, metadata: ["identityId": identity.id, "role": role.rawValue]))
        return JSONResponse(IdentityMembershipOutput(identityMembership: membership))
    }

    struct MessageOutput: Encodable, Sendable { let message: String }

    @Sendable func removeIdentity(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<MessageOutput> {
        let (principal, project) = try await load(context, .admin, action: "manage project members")
        let identityId = try context.parameter("identityId")
        guard try await platform.projects.removeIdentityMembership(projectId: project.id, identityId: identityId) else {
            throw APIError.notFound("identity membership not found")
        }
        try await platform.audit.record(AuditEvent("project-identity-membership-removed", orgId: project.orgId, projectId: project.id, actor: principal.auditActor,
                                                   ipAddress: context.clientIP, userAgent: context.userAgent, metadata: ["identityId": identityId]))
        return JSONResponse(MessageOutput(message: "identity membership removed"))
    }

    struct UserMembershipInput: Decodable { let userId: String?; let email: String?; let role: String }
    struct UserMembershipOutput: Encodable, Sendable { let membership: ProjectMembership }

    @Sendable func addUser(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<UserMembershipOutput> {
        let (principal, project) = try await load(context, .admin, action: "manage project members")
        let input = try await request.json(UserMembershipInput.self, context: context)
        let role = try ProjectRole.parse(input.role)
        let userId: String
        if let id = input.userId {
            guard try await platform.tenants.orgRole(userId: id, orgId: project.orgId) != nil else { throw APIError.notFound("user not found") }
            userId = id
        } else if let email = input.email {
            guard let user = try await platform.tenants.user(email: email, orgId: project.orgId) else { throw APIError.notFound("user not found") }
            userId = user.id
        } else {
            throw APIError.badRequest("userId or email is required")
        }
        let membership = try await platform.projects.setUserMembership(projectId: project.id, userId: userId, role: role)
        try await platform.audit.record(AuditEvent("project-membership-set", orgId: project.orgId, projectId: project.id, actor: principal.auditActor,
                                                   ipAddress: context.clientIP, userAgent: context.userAgent, metadata: ["userId": userId, "role": role.rawValue]))
        return JSONResponse(UserMembershipOutput(membership: membership))
    }
}
