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

    public func register(open: RouterGroup<KMSRequestContext>, authenticated: RouterGroup<KMSRequestContext>) {
        open.post("/api/v1/admin/bootstrap", use: bootstrap)
        open.post("/api/v1/auth/user/login", use: login)
        authenticated.post("/api/v1/organizations", use: createOrganization)
        authenticated.post("/api/v1/organizations/{orgId}/users", use: addUser)
    }

    struct BootstrapInput: Decodable { let email: String; let password: String; let organization: String }

    /// Creates the first organization, its admin user and admin identity, once per instance.
    @Sendable func bootstrap(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<BootstrapResult> {
        let input = try await request.json(BootstrapInput.self, context: context)
        return JSONResponse(try await Bootstrapper(platform: platform).bootstrap(
            email: input.email, password: input.password, organization: input.organization, request: context.requestInfo))
    }

    struct LoginInput: Decodable { let email: String; let password: String }
    struct LoginOutput: Encodable, Sendable { let accessToken: String; let expiresIn: Int; let tokenType: String }

    /// Signs a human user in. An unknown e-mail costs the same hashing time as a wrong password.
    @Sendable func login(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<LoginOutput> {
        let input = try await request.json(LoginInput.self, context: context)
        let found = try await platform.tenants.userForLogin(email: input.email)
        let ok = platform.passwords.verify(input.password, hash: found?.passwordHash ?? Self.decoyHash)
        guard let found, ok, let orgId = try await platform.tenants.organizations(userId: found.user.id).first else {
            failedLogins.increment()
            if let found, let orgId = try await platform.tenants.organizations(userId: found.user.id).first {
                try await platform.audit.record(AuditEvent("user-login-failed", orgId: orgId, actor: AuditActor(type: "user", id: found.user.id, metadata: ["email": found.user.email]),
                                                           ipAddress: context.clientIP, userAgent: context.userAgent))
            }
            throw APIError.unauthorized("invalid email or password")
        }
        let issued = try await platform.tokens.issue(TokenSpec(orgId: orgId, subject: .user(found.user.id), authMethod: "user-password",
                                                               ttl: Self.userTokenTTL, maxTTL: Self.userTokenMaxTTL))
        logins.increment()
        try await platform.audit.record(AuditEvent("user-login", orgId: orgId, actor: AuditActor(type: "user", id: found.user.id, metadata: ["email": found.user.email]),
                                                   ipAddress: context.clientIP, userAgent: context.userAgent, metadata: ["tokenId": issued.record.id]))
        return JSONResponse(LoginOutput(accessToken: issued.token, expiresIn: issued.record.expiresIn(now: platform.clock.now()), tokenType: "Bearer"))
    }

    /// A valid argon2id hash of a random password, verified against when the e-mail is unknown.
    static let decoyHash = (try? PasswordHasher().hash(SecureRandom.token())) ?? ""

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

    struct UserInput: Decodable { let email: String; let password: String; let role: String }
    struct UserOutput: Encodable, Sendable { let user: User }

    @Sendable func addUser(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<UserOutput> {
        let principal = try context.requirePrincipal()
        let orgId = try context.parameter("orgId")
        try await platform.authorizer.requireOrg(principal, orgId: orgId, .admin, action: "add users", request: context.requestInfo)
        let input = try await request.json(UserInput.self, context: context)
        let email = try Validate.email(input.email)
        let role = try OrgRole.parse(input.role)
        let password = try Validate.password(input.password)
        let hasher = platform.passwords
        let user = try await platform.tenants.addUser(orgId: orgId, email: email, passwordHash: { try hasher.hash(password) }, role: role)
        try await platform.audit.record(AuditEvent("user-added", orgId: orgId, actor: principal.auditActor, ipAddress: context.clientIP,
                                                   userAgent: context.userAgent, metadata: ["userId": user.id, "email": email, "role": role.rawValue]))
        return JSONResponse(UserOutput(user: user))
    }
}
