import Foundation

/// A PAM resource: something people get access to (an AWS account's entry role). Its
/// provider's own fields are `connectionDetails`.
public struct PAMResource: Encodable, Sendable {
    public let id: String
    public let orgId: String
    public let projectId: String
    public let resourceType: String
    public let name: String
    public let connectionDetails: [String: String]
    public let createdAt: Date
    public let updatedAt: Date

    enum CodingKeys: String, CodingKey { case id, projectId, resourceType, name, connectionDetails, createdAt, updatedAt }

    init(row: DBRow) throws {
        id = try row.string("id"); orgId = try row.string("org_id"); projectId = try row.string("project_id")
        resourceType = try row.string("resource_type"); name = try row.string("name")
        connectionDetails = try JSONDecoder().decode([String: String].self, from: Data(try row.string("details").utf8))
        createdAt = try row.date("created_at"); updatedAt = try row.date("updated_at")
    }
}

/// An account on a resource: what a person assumes (a target role) and for how long. The
/// provider's own fields (`details`) appear at the top level of the answer, as Infisical's do.
public struct PAMAccount: Encodable, Sendable {
    public let id: String
    public let orgId: String
    public let projectId: String
    public let resourceId: String
    public let resourceType: String
    public let name: String
    public let description: String?
    public let details: [String: String]
    /// Seconds a session lasts.
    public let sessionDuration: Int
    public let accessPolicy: PAMAccessPolicy
    public let createdAt: Date
    /// Problems found when the account was checked (e.g. a role kms cannot write a revocation
    /// to); only on the answer of the request that made or changed it.
    public var warnings: [String] = []

    init(row: DBRow) throws {
        id = try row.string("id"); orgId = try row.string("org_id"); projectId = try row.string("project_id")
        resourceId = try row.string("resource_id"); resourceType = try row.string("resource_type"); name = try row.string("name")
        description = try row.optionalString("description")
        details = try JSONDecoder().decode([String: String].self, from: Data(try row.string("details").utf8))
        sessionDuration = Int(try row.int("session_duration")); createdAt = try row.date("created_at")
        // A policy that cannot be read fails closed: approval required, and nobody can approve.
        accessPolicy = (try? JSONDecoder().decode(PAMAccessPolicy.self, from: Data(try row.string("access_policy").utf8)))
            ?? PAMAccessPolicy(requiresApproval: true, approvers: [], minApprovals: 1, maxDuration: 900, requireReason: true)
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        for (key, value) in details.sorted(by: { $0.key < $1.key }) { try c.encode(value, forKey: Key(key)) }
        try c.encode(id, forKey: Key("id"))
        try c.encode(resourceId, forKey: Key("resourceId"))
        try c.encode(projectId, forKey: Key("projectId"))
        try c.encode(resourceType, forKey: Key("resourceType"))
        try c.encode(name, forKey: Key("name"))
        try c.encodeIfPresent(description, forKey: Key("description"))
        try c.encode(sessionDuration, forKey: Key("defaultSessionDuration"))
        try c.encode(accessPolicy, forKey: Key("accessPolicy"))
        if !warnings.isEmpty { try c.encode(warnings, forKey: Key("warnings")) }
        try c.encode(createdAt, forKey: Key("createdAt"))
    }
}

/// Storage of PAM resources and accounts, every query scoped by its caller's project or
/// resource type.
public struct PAMStore: Sendable {
    let database: any Database
    let clock: TimeSource

    public init(platform: Platform) {
        database = platform.database
        clock = platform.clock
    }

    static func encoded(_ policy: PAMAccessPolicy) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(policy), as: UTF8.self)
    }

    /// Changes an account's name, description, own fields, duration and access policy.
    public func updateAccount(_ account: PAMAccount, name: String, description: String?, details: [String: String], sessionDuration: Int,
                              policy: PAMAccessPolicy) async throws -> PAMAccount {
        do {
            try await database.query(SQL("""
                UPDATE pam_accounts SET name = \(name), description = \(description), details = \(try Self.json(details)),
                    session_duration = \(sessionDuration), access_policy = \(try Self.encoded(policy)), updated_at = \(clock.now())
                WHERE id = \(account.id) AND project_id = \(account.projectId)
                """))
        } catch StorageError.uniqueViolation {
            throw APIError.conflict("an account named \(name) already exists on this resource")
        }
        guard let updated = try await self.account(id: account.id, projectId: account.projectId) else { throw APIError.notFound("account not found") }
        return updated
    }

    public func account(id: String, type: String) async throws -> PAMAccount? {
        try await database.first(SQL("SELECT * FROM pam_accounts WHERE id = \(id) AND resource_type = \(type)")).map(PAMAccount.init)
    }

    static func json(_ details: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(details), as: UTF8.self)
    }

    public func resource(id: String, type: String) async throws -> PAMResource? {
        try await database.first(SQL("SELECT * FROM pam_resources WHERE id = \(id) AND resource_type = \(type)")).map(PAMResource.init)
    }

    /// A project's resources, by name.
    public func resources(projectId: String) async throws -> [PAMResource] {
        try await database.query(SQL("SELECT * FROM pam_resources WHERE project_id = \(projectId) ORDER BY name, id")).map(PAMResource.init)
    }

    /// A project's accounts, by name.
    public func accounts(projectId: String) async throws -> [PAMAccount] {
        try await database.query(SQL("SELECT * FROM pam_accounts WHERE project_id = \(projectId) ORDER BY name, id")).map(PAMAccount.init)
    }

    public func resource(id: String, projectId: String) async throws -> PAMResource? {
        try await database.first(SQL("SELECT * FROM pam_resources WHERE id = \(id) AND project_id = \(projectId)")).map(PAMResource.init)
    }

    public func createResource(project: Project, type: String, name: String, details: [String: String]) async throws -> PAMResource {
        let id = SecureRandom.id(), now = clock.now()
        do {
            try await database.query(SQL("""
                INSERT INTO pam_resources (id, org_id, project_id, resource_type, name, details, created_at, updated_at)
                VALUES (\(id), \(project.orgId), \(project.id), \(type), \(name), \(try Self.json(details)), \(now), \(now))
                """))
        } catch StorageError.uniqueViolation {
            throw APIError.conflict("a resource named \(name) already exists in this project")
        }
        guard let created = try await resource(id: id, projectId: project.id) else { throw APIError.notFound("resource not found") }
        return created
    }

    public func updateResource(_ resource: PAMResource, name: String, details: [String: String]) async throws -> PAMResource {
        do {
            try await database.query(SQL("""
                UPDATE pam_resources SET name = \(name), details = \(try Self.json(details)), updated_at = \(clock.now())
                WHERE id = \(resource.id) AND project_id = \(resource.projectId)
                """))
        } catch StorageError.uniqueViolation {
            throw APIError.conflict("a resource named \(name) already exists in this project")
        }
        guard let updated = try await self.resource(id: resource.id, projectId: resource.projectId) else { throw APIError.notFound("resource not found") }
        return updated
    }

    /// Deletes the resource and, with it, its accounts.
    public func deleteResource(_ resource: PAMResource) async throws {
        try await database.query(SQL("DELETE FROM pam_resources WHERE id = \(resource.id) AND project_id = \(resource.projectId)"))
    }

    public func account(id: String, projectId: String) async throws -> PAMAccount? {
        try await database.first(SQL("SELECT * FROM pam_accounts WHERE id = \(id) AND project_id = \(projectId)")).map(PAMAccount.init)
    }

    public func createAccount(resource: PAMResource, name: String, description: String?, details: [String: String], sessionDuration: Int,
                              policy: PAMAccessPolicy) async throws -> PAMAccount {
        let id = SecureRandom.id(), now = clock.now()
        do {
            try await database.query(SQL("""
                INSERT INTO pam_accounts (id, org_id, project_id, resource_id, resource_type, name, description, details, session_duration, access_policy,
                    created_at, updated_at)
                VALUES (\(id), \(resource.orgId), \(resource.projectId), \(resource.id), \(resource.resourceType), \(name), \(description),
                        \(try Self.json(details)), \(sessionDuration), \(try Self.encoded(policy)), \(now), \(now))
                """))
        } catch StorageError.uniqueViolation {
            throw APIError.conflict("an account named \(name) already exists on this resource")
        }
        guard let created = try await account(id: id, projectId: resource.projectId) else { throw APIError.notFound("account not found") }
        return created
    }
}
