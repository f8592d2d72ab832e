import Foundation

/// Machine identities and the auth methods attached to them.
public struct IdentityStore: Sendable {
    let database: any Database
    let clock: TimeSource

    public init(database: any Database, clock: TimeSource) {
        self.database = database
        self.clock = clock
    }

    private func identity(_ row: DBRow, _ db: any SQLExecutor) async throws -> Identity {
        let id = try row.string("id")
        let methods = try await db.query("SELECT method FROM identity_auth_methods WHERE identity_id = $1 ORDER BY method", [.text(id)])
            .map { try $0.string("method") }
        return Identity(id: id, name: try row.string("name"), orgId: try row.string("org_id"), role: try row.string("role"),
                        authMethods: methods, isInstanceAdmin: try row.bool("is_instance_admin"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }

    public func create(orgId: String, name: String, role: OrgRole, instanceAdmin: Bool = false,
                       on db: (any SQLExecutor)? = nil) async throws -> Identity {
        let db = db ?? database
        let id = SecureRandom.id()
        try await db.query("""
            INSERT INTO identities (id, org_id, name, role, is_instance_admin, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)
            """, [.text(id), .text(orgId), .text(try Validate.name(name, field: "name")), .text(role.rawValue),
                  DBValue(instanceAdmin), DBValue(clock.now())])
        guard let row = try await db.first("SELECT * FROM identities WHERE id = $1", [.text(id)]) else { throw StorageError.other("identity vanished") }
        return try await identity(row, db)
    }

    /// An identity by id, regardless of organization; callers must check the org.
    public func find(id: String) async throws -> Identity? {
        guard let row = try await database.first("SELECT * FROM identities WHERE id = $1", [.text(id)]) else { return nil }
        return try await identity(row, database)
    }

    public func list(orgId: String) async throws -> [Identity] {
        var out: [Identity] = []
        for row in try await database.query("SELECT * FROM identities WHERE org_id = $1 ORDER BY created_at, id", [.text(orgId)]) {
            out.append(try await identity(row, database))
        }
        return out
    }

    public func update(id: String, orgId: String, name: String?, role: OrgRole?) async throws -> Identity? {
        if let name { try await database.query("UPDATE identities SET name = $3, updated_at = $4 WHERE id = $1 AND org_id = $2",
                                                [.text(id), .text(orgId), .text(try Validate.name(name, field: "name")), DBValue(clock.now())]) }
        if let role { try await database.query("UPDATE identities SET role = $3, updated_at = $4 WHERE id = $1 AND org_id = $2",
                                                [.text(id), .text(orgId), .text(role.rawValue), DBValue(clock.now())]) }
        return try await find(id: id).flatMap { $0.orgId == orgId ? $0 : nil }
    }

    /// Deletes an identity and, in the same transaction, revokes all its tokens. The delete
    /// comes first: it waits for logins that hold the identity's auth configs, so the tokens
    /// they issue exist by the time the revocation runs.
    public func delete(id: String, orgId: String, tokens: TokenService) async throws -> Bool {
        try await database.transaction { db in
            let deleted = try await !db.query("DELETE FROM identities WHERE id = $1 AND org_id = $2 RETURNING id", [.text(id), .text(orgId)]).isEmpty
            if deleted { try await tokens.revokeAll(identityId: id, on: db) }
            return deleted
        }
    }

    /// Records that an auth method is attached; a second attach of the same method is a 400.
    public func attachAuthMethod(identityId: String, method: String, configId: String, on db: (any SQLExecutor)? = nil) async throws {
        do {
            try await (db ?? database).query("INSERT INTO identity_auth_methods (identity_id, method, config_id, created_at) VALUES ($1, $2, $3, $4)",
                                             [.text(identityId), .text(method), .text(configId), DBValue(clock.now())])
        } catch StorageError.uniqueViolation {
            throw APIError.badRequest("identity already has the \(method) auth method attached")
        }
    }

    public func detachAuthMethod(identityId: String, method: String, on db: (any SQLExecutor)? = nil) async throws {
        try await (db ?? database).query("DELETE FROM identity_auth_methods WHERE identity_id = $1 AND method = $2",
                                         [.text(identityId), .text(method)])
    }
}
