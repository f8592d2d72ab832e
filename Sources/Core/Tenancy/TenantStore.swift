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

    /// Creates a user, or adds an existing user (same e-mail) to the organization. The password
    /// of an existing user is left unchanged.
    public func addUser(orgId: String, email: String, passwordHash: @Sendable () throws -> String, role: OrgRole,
                        instanceAdmin: Bool = false, on db: (any SQLExecutor)? = nil) async throws -> User {
        let db = db ?? database
        let now = clock.now()
        let user: User
        if let row = try await db.first("SELECT id, email FROM users WHERE email = $1", [.text(email)]) {
            user = User(id: try row.string("id"), email: try row.string("email"))
        } else {
            user = User(id: SecureRandom.id(), email: email)
            try await db.query("""
                INSERT INTO users (id, email, password_hash, is_instance_admin, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
                """, [.text(user.id), .text(email), .text(try passwordHash()), DBValue(instanceAdmin), DBValue(now)])
        }
        do {
            try await db.query("INSERT INTO org_memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
                               [.text(orgId), .text(user.id), .text(role.rawValue), DBValue(now)])
        } catch StorageError.uniqueViolation {
            throw APIError.conflict("\(email) is already a member of this organization")
        }
        return user
    }

    /// A user with the stored password hash, for login.
    public func userForLogin(email: String) async throws -> (user: User, passwordHash: String, instanceAdmin: Bool)? {
        guard let row = try await database.first("SELECT * FROM users WHERE email = $1", [.text(email.lowercased())]) else { return nil }
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

    public func orgRole(userId: String, orgId: String) async throws -> OrgRole? {
        try await database.first("SELECT role FROM org_memberships WHERE user_id = $1 AND org_id = $2", [.text(userId), .text(orgId)])
            .flatMap { OrgRole(rawValue: try $0.string("role")) }
    }

    /// The organizations a user belongs to, oldest membership first.
    public func organizations(userId: String) async throws -> [String] {
        try await database.query("SELECT org_id FROM org_memberships WHERE user_id = $1 ORDER BY created_at", [.text(userId)])
            .map { try $0.string("org_id") }
    }
}
