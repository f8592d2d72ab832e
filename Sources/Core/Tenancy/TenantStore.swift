import Foundation

/// Organizations, users and their memberships. Every read is scoped by organization.
public struct TenantStore: Sendable {
    let database: any Database
    let clock: TimeSource

    public init(database: any Database, clock: TimeSource) {
        self.database = database
        self.clock = clock
    }

    static func organization(_ row: DBRow) throws -> Organization {
        Organization(id: try row.string("id"), name: try row.string("name"), slug: try row.string("slug"))
    }

    /// Creates an organization; a taken slug is a 409.
    public func createOrganization(name: String, slug: String?, on db: (any SQLExecutor)? = nil) async throws -> Organization {
        let name = try Validate.name(name, field: "name")
        let slug = try Validate.slug(slug ?? Validate.slugify(name))
        let org = Organization(id: SecureRandom.id(), name: name, slug: slug)
        let now = clock.now()
        do {
            try await (db ?? database).query("INSERT INTO organizations (id, name, slug, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
                                             [.text(org.id), .text(name), .text(slug), DBValue(now)])
        } catch StorageError.uniqueViolation {
            throw APIError.conflict("an organization with slug '\(slug)' already exists")
        }
        return org
    }

    public func organization(id: String) async throws -> Organization? {
        try await database.first("SELECT * FROM organizations WHERE id = $1", [.text(id)]).map(Self.organization)
    }

    /// Creates a new user with a password hash and makes them a member of `orgId`. An e-mail that
    /// already has an account is a 409: an existing person's credentials are never replaced here.
    public func createUser(orgId: String, email: String, passwordHash: String, role: OrgRole,
                           instanceAdmin: Bool = false, on db: (any SQLExecutor)? = nil) async throws -> User {
        let db = db ?? database
        let user = User(id: SecureRandom.id(), email: email)
        do {
            try await db.query("""
                INSERT INTO users (id, email, password_hash, is_instance_admin, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
                """, [.text(user.id), .text(email), .text(passwordHash), DBValue(instanceAdmin), DBValue(clock.now())])
        } catch StorageError.uniqueViolation {
            throw APIError.conflict("a user with this e-mail address already exists; invite them instead (no password)")
        }
        try await addMembership(orgId: orgId, userId: user.id, role: role, on: db)
        return user
    }

    /// Makes an existing user a member of `orgId`; already being one is a 409.
    public func addMembership(orgId: String, userId: String, role: OrgRole, on db: (any SQLExecutor)? = nil) async throws {
        do {
            try await (db ?? database).query("INSERT INTO org_memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
                                             [.text(orgId), .text(userId), .text(role.rawValue), DBValue(clock.now())])
        } catch StorageError.uniqueViolation {
            throw APIError.conflict("this person is already a member of this organization")
        }
    }

    /// A user with the stored password hash, for login.
    /// Deletes an account (its memberships go with it).
    public func deleteUser(id: String, on db: (any SQLExecutor)? = nil) async throws {
        try await (db ?? database).query(SQL("DELETE FROM users WHERE id = \(id)"))
    }

    public func userForLogin(email: String, on db: (any SQLExecutor)? = nil) async throws -> (user: User, passwordHash: String, instanceAdmin: Bool)? {
        guard let row = try await (db ?? database).first("SELECT * FROM users WHERE email = $1", [.text(email.lowercased())]) else { return nil }
        return (User(id: try row.string("id"), email: try row.string("email")), try row.string("password_hash"), try row.bool("is_instance_admin"))
    }

    public func user(id: String) async throws -> (user: User, instanceAdmin: Bool)? {
        guard let row = try await database.first("SELECT * FROM users WHERE id = $1", [.text(id)]) else { return nil }
        return (User(id: try row.string("id"), email: try row.string("email")), try row.bool("is_instance_admin"))
    }

    /// A user within one organization, or nil when not a member.
    public func user(email: String, orgId: String) async throws -> User? {
        try await database.first("""
            SELECT u.id, u.email FROM users u JOIN org_memberships m ON m.user_id = u.id WHERE u.email = $1 AND m.org_id = $2
            """, [.text(email.lowercased()), .text(orgId)]).map { User(id: try $0.string("id"), email: try $0.string("email")) }
    }

    public func orgRole(userId: String, orgId: String, on db: (any SQLExecutor)? = nil) async throws -> OrgRole? {
        try await (db ?? database).first("SELECT role FROM org_memberships WHERE user_id = $1 AND org_id = $2", [.text(userId), .text(orgId)])
            .flatMap { OrgRole(rawValue: try $0.string("role")) }
    }

    /// The organizations a user belongs to, oldest membership first.
    public func organizations(userId: String) async throws -> [String] {
        try await database.query("SELECT org_id FROM org_memberships WHERE user_id = $1 ORDER BY created_at", [.text(userId)])
            .map { try $0.string("org_id") }
    }

    /// The people of an organization with their org role, by e-mail.
    public func members(orgId: String) async throws -> [OrgMember] {
        try await database.query(SQL("""
            SELECT u.id, u.email, m.role FROM users u JOIN org_memberships m ON m.user_id = u.id WHERE m.org_id = \(orgId) ORDER BY u.email
            """)).map { OrgMember(id: try $0.string("id"), email: try $0.string("email"), role: try $0.string("role")) }
    }
}

/// A person in an organization, as the members list shows them.
public struct OrgMember: Sendable, Codable, Equatable {
    public let id: String
    public let email: String
    public let role: String
}
