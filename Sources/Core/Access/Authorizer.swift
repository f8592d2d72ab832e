/// Answers "may this caller do that here?". Objects of an organization the caller does not
/// belong to are reported as not found, so their existence never leaks; a member lacking the
/// role gets 403, and that denial is audited.
public struct Authorizer: Sendable {
    let tenants: TenantStore
    let projects: ProjectStore
    let audit: AuditLog

    public init(tenants: TenantStore, projects: ProjectStore, audit: AuditLog) {
        self.tenants = tenants
        self.projects = projects
        self.audit = audit
    }

    /// The caller's role in `orgId`, or nil when it is not a member.
    public func orgRole(_ principal: Principal, orgId: String) async throws -> OrgRole? {
        if principal.isInstanceAdmin { return try await tenants.organization(id: orgId) != nil ? .admin : nil }
        switch principal.subject {
        case .identity:
            return principal.orgId == orgId ? principal.identityRole : nil
        case .user(let userId):
            // A person's token is bound to the organization chosen at login: membership of
            // another organization needs a new login there, never this token.
            guard principal.orgId == orgId else { return nil }
            return try await tenants.orgRole(userId: userId, orgId: orgId)
        }
    }

    /// Requires at least `minimum` in the organization. `what` names the object for the 404.
    public func requireOrg(_ principal: Principal, orgId: String, _ minimum: OrgRole, action: String,
                           request: RequestInfo, notFound what: String = "organization") async throws {
        guard let role = try await orgRole(principal, orgId: orgId), role > .noAccess else {
            throw APIError.notFound("\(what) not found")
        }
        if role < minimum { try await deny(principal, orgId: orgId, projectId: nil, action: action, request: request) }
    }

    /// The caller's effective role in a project: org admins are project admins.
    public func projectRole(_ principal: Principal, project: Project) async throws -> ProjectRole? {
        guard let orgRole = try await orgRole(principal, orgId: project.orgId), orgRole > .noAccess else { return nil }
        if orgRole == .admin { return .admin }
        return try await projects.role(of: principal.subject, projectId: project.id) ?? .noAccess
    }

    /// Requires at least `minimum` in the project; not an org member is a 404.
    public func requireProject(_ principal: Principal, project: Project, _ minimum: ProjectRole, action: String,
                               request: RequestInfo) async throws {
        guard let role = try await projectRole(principal, project: project) else { throw APIError.notFound("project not found") }
        if role < minimum { try await deny(principal, orgId: project.orgId, projectId: project.id, action: action, request: request) }
    }

    /// The identity `identityId`, if the caller holds at least `minimum` in its organization;
    /// another organization's identity is a 404 like a missing one. Changing an instance-admin
    /// identity (its auth methods, tokens, role or existence) takes an instance admin: org-level
    /// power must never reach instance-level power.
    public func requireIdentity(_ principal: Principal, identityId: String, _ minimum: OrgRole, action: String,
                                request: RequestInfo, identities: IdentityStore) async throws -> Identity {
        guard let identity = try await identities.find(id: identityId) else { throw APIError.notFound("identity not found") }
        try await requireOrg(principal, orgId: identity.orgId, minimum, action: action, request: request, notFound: "identity")
        if identity.isInstanceAdmin, minimum >= .admin, !principal.isInstanceAdmin {
            try await deny(principal, orgId: identity.orgId, projectId: nil, action: "\(action) of an instance-admin identity", request: request)
        }
        return identity
    }

    /// Requires an instance admin.
    public func requireInstanceAdmin(_ principal: Principal, action: String, request: RequestInfo) async throws {
        if !principal.isInstanceAdmin { try await deny(principal, orgId: principal.orgId, projectId: nil, action: action, request: request) }
    }

    private func deny(_ principal: Principal, orgId: String, projectId: String?, action: String, request: RequestInfo) async throws -> Never {
        try await audit.record(AuditEvent("permission-denied", orgId: orgId, projectId: projectId, actor: principal.auditActor,
                                          ipAddress: request.clientIP, userAgent: request.userAgent, metadata: ["action": action]))
        throw APIError.forbidden("you do not have permission to \(action)")
    }
}

/// The parts of a request that audit entries record.
public struct RequestInfo: Sendable {
    public let clientIP: String?
    public let userAgent: String?

    public init(clientIP: String?, userAgent: String?) {
        self.clientIP = clientIP
        self.userAgent = userAgent
    }
}
