import Foundation
import Hummingbird
import Metrics

/// Bootstrap, organizations, users and user login.
public struct InstanceRoutes: Sendable {
    let platform: Platform
    private let logins = Counter(label: "kms_logins_total", dimensions: [("method", "user")])
    private let failedLogins = Counter(label: "kms_login_failures_total", dimensions: [("method", "user")])
    /// User sessions: 8 hours, renewable up to a day.
    static let userTokenTTL = 8 * 3600
    static let userTokenMaxTTL = 24 * 3600

    public init(platform: Platform) { self.platform = platform }

    /// `login` is the rate-limited group of unauthenticated routes that check passwords.
    public func register(login open: RouterGroup<KMSRequestContext>, authenticated: RouterGroup<KMSRequestContext>) {
        open.post("/api/v1/admin/bootstrap", use: bootstrap)
        open.post("/api/v1/auth/user/login", use: login)
        open.post("/api/v1/auth/user/accept-invite", use: acceptInvite)
        authenticated.post("/api/v1/organizations", use: createOrganization)
        authenticated.post("/api/v1/organizations/{orgId}/users", use: addUser)
        authenticated.get("/api/v1/organizations/{orgId}/users", use: listUsers)
        authenticated.post("/api/v1/admin/users/remove", use: removeUser)
    }

    struct BootstrapInput: Decodable { let email: String; let password: String; let organization: String }

    /// Creates the first organization, its admin user and admin identity, once per instance.
    @Sendable func bootstrap(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<BootstrapResult> {
        let input = try await request.json(BootstrapInput.self, context: context)
        return JSONResponse(try await Bootstrapper(platform: platform).bootstrap(
            email: input.email, password: input.password, organization: input.organization, request: context.requestInfo))
    }

    struct LoginInput: Decodable { let email: String; let password: String; let organizationId: String? }
    struct LoginOutput: Encodable, Sendable { let accessToken: String; let expiresIn: Int; let tokenType: String; let organizationId: String }

    /// Signs a human user in to one organization: `organizationId` when given (Infisical's
    /// select-organization step), else the oldest membership. The token acts in that
    /// organization only. An unknown e-mail costs the same hashing time as a wrong password.
    @Sendable func login(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<LoginOutput> {
        let input = try await request.json(LoginInput.self, context: context)
        let found = try await platform.tenants.userForLogin(email: input.email)
        let ok = try await platform.passwords.verifyOffLoop(input.password, hash: found?.passwordHash ?? platform.passwords.decoyHash)
        var memberships: [String] = []
        if let found { memberships = try await platform.tenants.organizations(userId: found.user.id) }
        guard let found, ok, let firstOrg = memberships.first else {
            failedLogins.increment()
            if let found, let orgId = memberships.first {
                try await platform.audit.recordFailure(AuditEvent("user-login-failed", orgId: orgId, actor: AuditActor(type: "user", id: found.user.id, metadata: ["email": found.user.email]),
                                                                  ipAddress: context.clientIP, userAgent: context.userAgent))
            }
            throw APIError.unauthorized("invalid email or password")
        }
        var orgId = firstOrg
        if let chosen = input.organizationId {
            guard memberships.contains(chosen) else { throw APIError.forbidden("you are not a member of organization \(chosen)") }
            orgId = chosen
        }
        let issued = try await platform.tokens.issue(TokenSpec(orgId: orgId, subject: .user(found.user.id), authMethod: "user-password",
                                                               ttl: Self.userTokenTTL, maxTTL: Self.userTokenMaxTTL))
        logins.increment()
        try await platform.audit.record(AuditEvent("user-login", orgId: orgId, actor: AuditActor(type: "user", id: found.user.id, metadata: ["email": found.user.email]),
                                                   ipAddress: context.clientIP, userAgent: context.userAgent, metadata: ["tokenId": issued.record.id]))
        return JSONResponse(LoginOutput(accessToken: issued.token, expiresIn: issued.record.expiresIn(now: platform.clock.now()), tokenType: "Bearer",
                                        organizationId: orgId))
    }


    struct MembersOutput: Encodable, Sendable { let users: [OrgMember] }

    /// The people of an organization and their roles (org admins).
    @Sendable func listUsers(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<MembersOutput> {
        let principal = try context.requirePrincipal()
        let orgId = try context.parameter("orgId")
        try await platform.authorizer.requireOrg(principal, orgId: orgId, .admin, action: "list the organization's people", request: context.requestInfo)
        return JSONResponse(MembersOutput(users: try await platform.tenants.members(orgId: orgId)))
    }

    struct OrganizationInput: Decodable { let name: String; let slug: String? }
    struct OrganizationOutput: Encodable, Sendable { let organization: Organization }

    @Sendable func createOrganization(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<OrganizationOutput> {
        let principal = try context.requirePrincipal()
        try await platform.authorizer.requireInstanceAdmin(principal, action: "create organizations", request: context.requestInfo)
        let input = try await request.json(OrganizationInput.self, context: context)
        let org = try await platform.tenants.createOrganization(name: input.name, slug: input.slug)
        try await platform.audit.record(AuditEvent("organization-created", orgId: org.id, actor: principal.auditActor, ipAddress: context.clientIP,
                                                   userAgent: context.userAgent, metadata: ["name": org.name, "slug": org.slug]))
        return JSONResponse(OrganizationOutput(organization: org))
    }

    struct UserInput: Decodable { let email: String; let password: String?; let role: String }
    /// `user` when an instance admin created an account; `invitation` and its one-time
    /// `inviteToken` otherwise. The answer never says whether the address has an account elsewhere.
    struct UserOutput: Encodable, Sendable { let user: User?; let invitation: Invitation?; let inviteToken: String? }

    /// Brings a person into an organization. An org admin invites (no password): the person
    /// accepts with their own password, so no org admin can set or replace a credential of a
    /// person who is, or will be, in another organization. Only an instance admin may create an
    /// account with a password, and never over an existing one.
    @Sendable func addUser(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<UserOutput> {
        let principal = try context.requirePrincipal()
        let orgId = try context.parameter("orgId")
        try await platform.authorizer.requireOrg(principal, orgId: orgId, .admin, action: "add users", request: context.requestInfo)
        let input = try await request.json(UserInput.self, context: context)
        let email = try Validate.email(input.email)
        let role = try OrgRole.parse(input.role)
        if let password = input.password {
            guard principal.isInstanceAdmin else {
                throw APIError.forbidden("only an instance admin may create an account with a password; omit password to invite the person, who then sets their own")
            }
            let hash = try await platform.passwords.hashOffLoop(try Validate.password(password))
            let user = try await platform.tenants.createUser(orgId: orgId, email: email, passwordHash: hash, role: role)
            try await platform.audit.record(AuditEvent("user-created", orgId: orgId, actor: principal.auditActor, ipAddress: context.clientIP,
                                                       userAgent: context.userAgent, metadata: ["userId": user.id, "email": email, "role": role.rawValue]))
            return JSONResponse(UserOutput(user: user, invitation: nil, inviteToken: nil))
        }
        if try await platform.tenants.user(email: email, orgId: orgId) != nil {
            throw APIError.conflict("\(email) is already a member of this organization")
        }
        let (invitation, token) = try await platform.invitations.create(orgId: orgId, email: email, role: role, invitedBy: principal.id)
        try await platform.audit.record(AuditEvent("user-invited", orgId: orgId, actor: principal.auditActor, ipAddress: context.clientIP,
                                                   userAgent: context.userAgent, metadata: ["invitationId": invitation.id, "email": email, "role": role.rawValue]))
        return JSONResponse(UserOutput(user: nil, invitation: invitation, inviteToken: token))
    }

    struct AcceptInput: Decodable { let inviteToken: String; let password: String }
    struct AcceptOutput: Encodable, Sendable {
        let user: User
        let organizationId: String
        let accessToken: String
        let expiresIn: Int
        let tokenType: String
    }

    /// Accepts an invitation with the person's own password (new account) or existing password
    /// (existing account) and signs them in to the organization.
    @Sendable func acceptInvite(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<AcceptOutput> {
        let input = try await request.json(AcceptInput.self, context: context)
        let (user, invitation, created) = try await platform.invitations.accept(token: input.inviteToken, password: input.password,
                                                                                 passwords: platform.passwords, tenants: platform.tenants,
                                                                                 audit: platform.audit, request: context.requestInfo)
        let issued = try await platform.tokens.issue(TokenSpec(orgId: invitation.orgId, subject: .user(user.id), authMethod: "user-password",
                                                               ttl: Self.userTokenTTL, maxTTL: Self.userTokenMaxTTL))
        try await platform.audit.record(AuditEvent("user-invitation-accepted", orgId: invitation.orgId,
                                                   actor: AuditActor(type: "user", id: user.id, metadata: ["email": user.email]),
                                                   ipAddress: context.clientIP, userAgent: context.userAgent,
                                                   metadata: ["invitationId": invitation.id, "role": invitation.role, "accountCreated": String(created)]))
        return JSONResponse(AcceptOutput(user: user, organizationId: invitation.orgId, accessToken: issued.token,
                                         expiresIn: issued.record.expiresIn(now: platform.clock.now()), tokenType: "Bearer"))
    }

    struct RemoveInput: Decodable { let email: String }
    struct RemoveOutput: Encodable, Sendable { let user: User; let organizations: [String]; let tokensRevoked: Int }

    /// Removes a person's account everywhere (instance admin only): how an operator frees an
    /// address that someone claimed through an invitation they made themselves, so its real
    /// owner can be invited. Tokens are revoked and every organization's log records it.
    @Sendable func removeUser(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<RemoveOutput> {
        let principal = try context.requirePrincipal()
        try await platform.authorizer.requireInstanceAdmin(principal, action: "remove people", request: context.requestInfo)
        let input = try await request.json(RemoveInput.self, context: context)
        guard let found = try await platform.tenants.userForLogin(email: try Validate.email(input.email)) else { throw APIError.notFound("no account has this e-mail address") }
        guard !found.instanceAdmin else { throw APIError.badRequest("an instance admin's account cannot be removed this way") }
        let orgs = try await platform.tenants.organizations(userId: found.user.id)
        let p = platform
        let revoked = try await p.database.transaction { db in
            let revoked = try await p.tokens.revokeAll(userId: found.user.id, on: db)
            try await p.tenants.deleteUser(id: found.user.id, on: db)
            for orgId in orgs.sorted() {  // chain heads locked in one order everywhere: no deadlock with the reaper
                try await p.audit.record(AuditEvent("user-removed", orgId: orgId, actor: principal.auditActor, ipAddress: context.clientIP, userAgent: context.userAgent,
                                                    metadata: ["userId": found.user.id, "email": found.user.email, "tokensRevoked": String(revoked)]), on: db)
            }
            return revoked
        }
        return JSONResponse(RemoveOutput(user: found.user, organizations: orgs, tokensRevoked: revoked))
    }
}
