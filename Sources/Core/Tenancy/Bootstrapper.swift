/// The answer of a bootstrap: the admin user, the organization and its admin identity with
/// the only copy of that identity's token.
public struct BootstrapResult: Encodable, Sendable {
    public struct IdentityOut: Encodable, Sendable {
        public let id: String
        public let name: String
        public let credentials: [String: String]
    }
    public let user: User
    public let organization: Organization
    public let identity: IdentityOut
}

/// Initialises an empty instance, once: used by the bootstrap route and `kms bootstrap`.
public struct Bootstrapper: Sendable {
    let platform: Platform

    public init(platform: Platform) { self.platform = platform }

    public func bootstrap(email: String, password: String, organization: String, request: RequestInfo) async throws -> BootstrapResult {
        let email = try Validate.email(email)
        let password = try Validate.password(password)
        let orgName = try Validate.name(organization, field: "organization")
        let hash = try await platform.passwords.hashOffLoop(password)
        let p = platform
        return try await p.database.transaction { db in
            do {
                try await db.query("INSERT INTO instance_settings (key, value, created_at) VALUES ('bootstrapped', 'true', $1)", [DBValue(p.clock.now())])
            } catch StorageError.uniqueViolation {
                throw APIError.badRequest("this instance has already been bootstrapped")
            }
            let org = try await p.tenants.createOrganization(name: orgName, slug: nil, on: db)
            let user = try await p.tenants.createUser(orgId: org.id, email: email, passwordHash: hash, role: .admin, instanceAdmin: true, on: db)
            let identity = try await p.identities.create(orgId: org.id, name: "admin", role: .admin, instanceAdmin: true, on: db)
            let issued = try await p.tokens.issue(TokenSpec(orgId: org.id, subject: .identity(identity.id), authMethod: "bootstrap", ttl: 0, maxTTL: 0), on: db)
            try await p.audit.record(AuditEvent("bootstrap", orgId: org.id, actor: .anonymous, ipAddress: request.clientIP, userAgent: request.userAgent,
                                                metadata: ["userId": user.id, "identityId": identity.id]), on: db)
            return BootstrapResult(user: user, organization: org, identity: .init(id: identity.id, name: identity.name, credentials: ["token": issued.token]))
        }
    }
}
