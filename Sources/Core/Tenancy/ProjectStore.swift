import Foundation

/// Projects, their environments and memberships.
public struct ProjectStore: Sendable {
    let database: any Database
    let clock: TimeSource

    public static let defaultEnvironments = [("Development", "dev"), ("Staging", "staging"), ("Production", "prod")]

    public init(database: any Database, clock: TimeSource) {
        self.database = database
        self.clock = clock
    }

    private func project(_ row: DBRow, _ db: any SQLExecutor) async throws -> Project {
        let id = try row.string("id")
        let envs = try await db.query("SELECT id, name, slug FROM environments WHERE project_id = $1 ORDER BY position", [.text(id)])
            .map { Environment(id: try $0.string("id"), name: try $0.string("name"), slug: try $0.string("slug")) }
        return Project(id: id, name: try row.string("name"), slug: try row.string("slug"), orgId: try row.string("org_id"),
                       environments: envs, createdAt: try row.date("created_at"))
    }

    /// Creates a project with the default environments and its creator as admin, atomically.
    public func create(orgId: String, name: String, slug: String?, creator: TokenSubject) async throws -> Project {
        let name = try Validate.name(name, field: "projectName")
        let slug = try Validate.slug(slug ?? Validate.slugify(name))
        let id = SecureRandom.id()
        let now = clock.now()
        return try await database.transaction { db in
            do {
                try await db.query("INSERT INTO projects (id, org_id, name, slug, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
                                   [.text(id), .text(orgId), .text(name), .text(slug), DBValue(now)])
            } catch StorageError.uniqueViolation {
                throw APIError.conflict("a project with slug '\(slug)' already exists in this organization")
            }
            for (i, env) in Self.defaultEnvironments.enumerated() {
                try await db.query("INSERT INTO environments (id, project_id, name, slug, position, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                                   [.text(SecureRandom.id()), .text(id), .text(env.0), .text(env.1), .int(Int64(i)), DBValue(now)])
            }
            switch creator {
            case .identity(let identityId):
                try await db.query("INSERT INTO project_identity_memberships (project_id, identity_id, role, id, created_at) VALUES ($1, $2, 'admin', $3, $4)",
                                   [.text(id), .text(identityId), .text(SecureRandom.id()), DBValue(now)])
            case .user(let userId):
                try await db.query("INSERT INTO project_user_memberships (project_id, user_id, role, id, created_at) VALUES ($1, $2, 'admin', $3, $4)",
                                   [.text(id), .text(userId), .text(SecureRandom.id()), DBValue(now)])
            }
            guard let row = try await db.first("SELECT * FROM projects WHERE id = $1", [.text(id)]) else { throw StorageError.other("project vanished") }
            return try await project(row, db)
        }
    }

    /// A project by id, regardless of organization; callers must check the org.
    public func find(id: String) async throws -> Project? {
        guard let row = try await database.first("SELECT * FROM projects WHERE id = $1", [.text(id)]) else { return nil }
        return try await project(row, database)
    }

    /// The projects of an organization that `subject` sees: every one for an org admin
    /// (`all`), else those it holds a role above no-access in. Oldest first.
    public func list(orgId: String, subject: TokenSubject, all: Bool) async throws -> [Project] {
        let rows: [DBRow]
        if all {
            rows = try await database.query(SQL("SELECT * FROM projects WHERE org_id = \(orgId) ORDER BY created_at, id"))
        } else {
            switch subject {
            case .identity(let id):
                rows = try await database.query(SQL("""
                    SELECT p.* FROM projects p JOIN project_identity_memberships m ON m.project_id = p.id
                    WHERE p.org_id = \(orgId) AND m.identity_id = \(id) AND m.role <> 'no-access' ORDER BY p.created_at, p.id
                    """))
            case .user(let id):
                rows = try await database.query(SQL("""
                    SELECT p.* FROM projects p JOIN project_user_memberships m ON m.project_id = p.id
                    WHERE p.org_id = \(orgId) AND m.user_id = \(id) AND m.role <> 'no-access' ORDER BY p.created_at, p.id
                    """))
            }
        }
        var projects: [Project] = []
        for row in rows { projects.append(try await project(row, database)) }
        return projects
    }

    /// A project by slug within one organization.
    public func find(slug: String, orgId: String) async throws -> Project? {
        guard let row = try await database.first("SELECT * FROM projects WHERE slug = $1 AND org_id = $2", [.text(slug), .text(orgId)]) else { return nil }
        return try await project(row, database)
    }

    /// Deletes a project. Its live leases are not dropped with it: each keeps the config it was
    /// made with and is made due now, so the lease reaper revokes it in the cloud right away.
    /// Returns whether the project existed and how many leases were handed to the reaper.
    public func delete(id: String, orgId: String) async throws -> (deleted: Bool, leasesDue: Int) {
        let now = clock.now()
        return try await database.transaction { db in
            let due = try await db.query("""
                UPDATE leases SET expire_at = $3, next_attempt_at = 0, updated_at = $3
                WHERE project_id = $1 AND org_id = $2 AND status IN ('active', 'creating', 'revocation_failed') RETURNING id
                """, [.text(id), .text(orgId), DBValue(now)]).count
            let deleted = try await !db.query("DELETE FROM projects WHERE id = $1 AND org_id = $2 RETURNING id", [.text(id), .text(orgId)]).isEmpty
            return (deleted, due)
        }
    }

    public func addEnvironment(projectId: String, name: String, slug: String) async throws -> Environment {
        let env = Environment(id: SecureRandom.id(), name: try Validate.name(name, field: "name"), slug: try Validate.slug(slug))
        let position = try await database.first("SELECT COUNT(*) AS n FROM environments WHERE project_id = $1", [.text(projectId)])?.int("n") ?? 0
        do {
            try await database.query("INSERT INTO environments (id, project_id, name, slug, position, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                                     [.text(env.id), .text(projectId), .text(env.name), .text(env.slug), .int(position), DBValue(clock.now())])
        } catch StorageError.uniqueViolation {
            throw APIError.conflict("environment '\(slug)' already exists in this project")
        }
        return env
    }

    /// Sets an identity's project role (insert or update).
    public func setIdentityMembership(projectId: String, identityId: String, role: ProjectRole) async throws -> IdentityMembership {
        try await database.transaction { db in
            try await db.query("DELETE FROM project_identity_memberships WHERE project_id = $1 AND identity_id = $2", [.text(projectId), .text(identityId)])
            let id = SecureRandom.id()
            try await db.query("INSERT INTO project_identity_memberships (project_id, identity_id, role, id, created_at) VALUES ($1, $2, $3, $4, $5)",
                               [.text(projectId), .text(identityId), .text(role.rawValue), .text(id), DBValue(clock.now())])
            return IdentityMembership(id: id, identityId: identityId, projectId: projectId, role: role.rawValue)
        }
    }

    public func removeIdentityMembership(projectId: String, identityId: String) async throws -> Bool {
        try await !database.query("DELETE FROM project_identity_memberships WHERE project_id = $1 AND identity_id = $2 RETURNING id",
                                  [.text(projectId), .text(identityId)]).isEmpty
    }

    /// Sets a user's project role (insert or update).
    public func setUserMembership(projectId: String, userId: String, role: ProjectRole) async throws -> ProjectMembership {
        try await database.transaction { db in
            try await db.query("DELETE FROM project_user_memberships WHERE project_id = $1 AND user_id = $2", [.text(projectId), .text(userId)])
            let id = SecureRandom.id()
            try await db.query("INSERT INTO project_user_memberships (project_id, user_id, role, id, created_at) VALUES ($1, $2, $3, $4, $5)",
                               [.text(projectId), .text(userId), .text(role.rawValue), .text(id), DBValue(clock.now())])
            return ProjectMembership(id: id, userId: userId, projectId: projectId, role: role.rawValue)
        }
    }

    /// A subject's explicit role in a project, if any.
    public func role(of subject: TokenSubject, projectId: String) async throws -> ProjectRole? {
        let row: DBRow? = switch subject {
        case .identity(let id):
            try await database.first("SELECT role FROM project_identity_memberships WHERE project_id = $1 AND identity_id = $2", [.text(projectId), .text(id)])
        case .user(let id):
            try await database.first("SELECT role FROM project_user_memberships WHERE project_id = $1 AND user_id = $2", [.text(projectId), .text(id)])
        }
        return try row.flatMap { ProjectRole(rawValue: try $0.string("role")) }
    }
}
