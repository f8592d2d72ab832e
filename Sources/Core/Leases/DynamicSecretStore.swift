import Foundation

/// A stored dynamic-secret configuration as the API shows it (`folderId` is the environment
/// and path, which the official SDK's model requires).
public struct DynamicSecretRecord: Encodable, Sendable {
    public let id: String
    public let name: String
    public let type: String
    public let version: Int
    public let defaultTTL: String
    public let maxTTL: String
    public let folderId: String
    public let inputs: JSONValue
    public let createdAt: Date
    public let updatedAt: Date
    let orgId: String
    let projectId: String
    let defaultSeconds: Int
    let maxSeconds: Int
    let sealedInputs: String

    enum CodingKeys: String, CodingKey { case id, name, type, version, defaultTTL, maxTTL, folderId, inputs, createdAt, updatedAt }

    public init(row: DBRow) throws {
        id = try row.string("id")
        name = try row.string("name")
        type = try row.string("type")
        version = Int(try row.int("version"))
        defaultSeconds = Int(try row.int("default_ttl"))
        maxSeconds = Int(try row.int("max_ttl"))
        defaultTTL = String(defaultSeconds)
        maxTTL = String(maxSeconds)
        folderId = "\(try row.string("environment_id")):\(try row.string("path"))"
        inputs = JSONValue.parse(try row.string("inputs")) ?? .object([:])
        createdAt = try row.date("created_at")
        updatedAt = try row.date("updated_at")
        orgId = try row.string("org_id")
        projectId = try row.string("project_id")
        sealedInputs = try row.string("sealed_inputs")
    }

    /// The configuration handed to the provider, secrets opened.
    func providerConfig(sealer: Sealer) throws -> DynamicSecretConfig {
        try DynamicSecretConfig.open(id: id, orgId: orgId, projectId: projectId, name: name, type: type, inputs: inputs, sealedInputs: sealedInputs, sealer: sealer)
    }
}

extension DynamicSecretConfig {
    /// Merges public inputs with the opened secret ones. Secret inputs are sealed with the
    /// dynamic secret's id as context, in its own row and in each lease's snapshot alike.
    static func open(id: String, orgId: String, projectId: String, name: String, type: String, inputs: JSONValue, sealedInputs: String,
                     sealer: Sealer) throws -> DynamicSecretConfig {
        let secret = JSONValue.parse(try sealer.open(sealedInputs, context: "dynamic-secret/\(id)"))?.object ?? [:]
        var merged = inputs.object ?? [:]
        merged.merge(secret) { _, s in s }
        return DynamicSecretConfig(id: id, orgId: orgId, projectId: projectId, name: name, type: type, inputs: .object(merged))
    }
}

extension LeaseRecord {
    /// The provider config this lease was made with; leases older than snapshots fall back to
    /// their secret's current config. Nil when neither exists.
    func providerConfig(sealer: Sealer, fallback: DynamicSecretRecord?) throws -> DynamicSecretConfig? {
        if let snapshot {
            return try DynamicSecretConfig.open(id: dynamicSecretId, orgId: orgId, projectId: projectId, name: fallback?.name ?? "",
                                                type: snapshot.type, inputs: JSONValue.parse(snapshot.inputs) ?? .object([:]),
                                                sealedInputs: snapshot.sealedInputs, sealer: sealer)
        }
        return try fallback?.providerConfig(sealer: sealer)
    }
}

/// Where a dynamic secret lives: project, environment, folder path.
public struct SecretScope: Sendable {
    public let project: Project
    public let environment: Environment
    public let path: String
}

/// Storage of dynamic-secret configs, each query scoped to an environment and folder (or to the
/// config's own id), values bound through ``SQL``. Secret inputs arrive and leave sealed.
public struct DynamicSecretStore: Sendable {
    let database: any Database
    let clock: TimeSource

    public init(platform: Platform) {
        database = platform.database
        clock = platform.clock
    }

    public func find(_ scope: SecretScope, name: String) async throws -> DynamicSecretRecord? {
        try await database.first(SQL("""
            SELECT * FROM dynamic_secrets WHERE environment_id = \(scope.environment.id) AND path = \(scope.path) AND name = \(name)
            """)).map(DynamicSecretRecord.init(row:))
    }

    public func find(id: String, in scope: SecretScope) async throws -> DynamicSecretRecord? {
        try await database.first(SQL("""
            SELECT * FROM dynamic_secrets WHERE id = \(id) AND environment_id = \(scope.environment.id) AND path = \(scope.path)
            """)).map(DynamicSecretRecord.init(row:))
    }

    public func list(_ scope: SecretScope) async throws -> [DynamicSecretRecord] {
        try await database.query(SQL("""
            SELECT * FROM dynamic_secrets WHERE environment_id = \(scope.environment.id) AND path = \(scope.path) ORDER BY name
            """)).map(DynamicSecretRecord.init(row:))
    }

    /// Stores a new config; `sealedInputs` are already sealed with the id as context.
    public func insert(id: String, scope: SecretScope, name: String, type: String, ttls: (Int, Int), inputs: String, sealedInputs: String) async throws {
        let now = clock.now()
        do {
            try await database.query(SQL("""
                INSERT INTO dynamic_secrets (id, org_id, project_id, environment_id, path, name, type, version, default_ttl, max_ttl, inputs, sealed_inputs,
                    created_at, updated_at)
                VALUES (\(id), \(scope.project.orgId), \(scope.project.id), \(scope.environment.id), \(scope.path), \(name), \(type), 1, \(ttls.0),
                    \(ttls.1), \(inputs), \(sealedInputs), \(now), \(now))
                """))
        } catch StorageError.uniqueViolation {
            throw APIError.conflict("a dynamic secret named \(name) already exists at this path")
        }
    }

    public func update(id: String, name: String, ttls: (Int, Int), inputs: String, sealedInputs: String) async throws {
        do {
            try await database.query(SQL("""
                UPDATE dynamic_secrets SET name = \(name), default_ttl = \(ttls.0), max_ttl = \(ttls.1), inputs = \(inputs), sealed_inputs = \(sealedInputs),
                    version = version + 1, updated_at = \(clock.now()) WHERE id = \(id)
                """))
        } catch StorageError.uniqueViolation {
            throw APIError.conflict("a dynamic secret named \(name) already exists at this path")
        }
    }

    /// Deletes a config; a lease of it still live then (one whose create finished while the
    /// others were revoked) is made due at once, for the reaper to revoke with its own config.
    /// Returns how many were made due.
    @discardableResult
    public func delete(id: String) async throws -> Int {
        let now = clock.now()
        return try await database.transaction { db in
            try await db.query("DELETE FROM dynamic_secrets WHERE id = $1", [.text(id)])
            return try await db.query("""
                UPDATE leases SET expire_at = $2, next_attempt_at = 0, updated_at = $2
                WHERE dynamic_secret_id = $1 AND status IN ('active', 'revocation_failed') RETURNING id
                """, [.text(id), DBValue(now)]).count
        }
    }

    /// The config's leases that may still hold cloud credentials.
    public func liveLeases(secretId: String) async throws -> [LeaseRecord] {
        try await database.query(SQL("""
            SELECT * FROM leases WHERE dynamic_secret_id = \(secretId) AND status IN ('active', 'creating', 'revocation_failed')
            """)).map(LeaseRecord.init(row:))
    }

    /// The config's latest leases, newest first.
    public func leases(secretId: String, limit: Int = 500) async throws -> [LeaseRecord] {
        try await database.query(SQL("SELECT * FROM leases WHERE dynamic_secret_id = \(secretId) ORDER BY created_at DESC LIMIT \(limit)"))
            .map(LeaseRecord.init(row:))
    }
}
