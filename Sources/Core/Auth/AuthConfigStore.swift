import Foundation

/// Storage of one provider's configs: the standard columns written by Core, the provider's own
/// columns by the provider. Table and column names come from code, never from requests.
public struct AuthConfigStore<P: IdentityAuthProvider>: Sendable {
    let provider: P
    let platform: Platform

    public init(provider: P, platform: Platform) {
        self.provider = provider
        self.platform = platform
    }

    func decode(_ row: DBRow) throws -> StoredAuthConfig<P.Config> {
        StoredAuthConfig(id: try row.string("id"), identityId: try row.string("identity_id"), orgId: try row.string("org_id"),
                         tokens: AccessTokenSettings(ttl: Int(try row.int("ttl")), maxTTL: Int(try row.int("max_ttl")),
                                                     numUsesLimit: Int(try row.int("num_uses_limit")),
                                                     trustedIPs: AccessTokenSettings.trustedIPs(fromJSON: try row.string("trusted_ips"))),
                         lockout: try row.optionalInt("lockout_enabled").map { enabled in
                             LockoutPolicy(enabled: enabled != 0, threshold: Int(try row.int("lockout_threshold")), duration: Int(try row.int("lockout_duration")),
                                           counterReset: Int(try row.int("lockout_counter_reset")))
                         } ?? LockoutPolicy(),
                         createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"), own: try provider.config(from: row))
    }

    /// The identity's config, or nil.
    public func load(identityId: String) async throws -> StoredAuthConfig<P.Config>? {
        try await platform.database.first("""
            SELECT c.*, l.enabled AS lockout_enabled, l.threshold AS lockout_threshold, l.duration AS lockout_duration, l.counter_reset AS lockout_counter_reset
            FROM \(provider.configTable) c LEFT JOIN auth_lockout_policies l ON l.config_id = c.id WHERE c.identity_id = $1
            """, [.text(identityId)]).map(decode)
    }

    /// Attaches a config to an identity, recording the method on the identity in the same transaction.
    func insert(identity: Identity, tokens: AccessTokenSettings, lockout: LockoutPolicy, own: P.Config) async throws {
        let id = SecureRandom.id()
        let now = platform.clock.now()
        let extra = try provider.columns(of: own)
        let names = ["id", "identity_id", "org_id", "ttl", "max_ttl", "num_uses_limit", "trusted_ips", "created_at", "updated_at"] + extra.map(\.0)
        let values: [DBValue] = [.text(id), .text(identity.id), .text(identity.orgId), .int(Int64(tokens.ttl)), .int(Int64(tokens.maxTTL)),
                                 .int(Int64(tokens.numUsesLimit)), .text(tokens.trustedIPsJSON), DBValue(now), DBValue(now)] + extra.map(\.1)
        let placeholders = (1...values.count).map { "$\($0)" }.joined(separator: ", ")
        let p = platform, method = provider.method, table = provider.configTable
        try await p.database.transaction { db in
            try await p.identities.attachAuthMethod(identityId: identity.id, method: method, configId: id, on: db)
            try await db.query("INSERT INTO \(table) (\(names.joined(separator: ", "))) VALUES (\(placeholders))", values)
            try await Self.save(lockout, configId: id, on: db)
        }
    }

    static func save(_ lockout: LockoutPolicy, configId: String, on db: any SQLExecutor) async throws {
        try await db.query("""
            INSERT INTO auth_lockout_policies (config_id, enabled, threshold, duration, counter_reset) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (config_id) DO UPDATE SET enabled = $2, threshold = $3, duration = $4, counter_reset = $5
            """, [.text(configId), DBValue(lockout.enabled), .int(Int64(lockout.threshold)), .int(Int64(lockout.duration)), .int(Int64(lockout.counterReset))])
    }

    func update(configId: String, tokens: AccessTokenSettings, lockout: LockoutPolicy, own: P.Config) async throws {
        let extra = try provider.columns(of: own)
        let names = ["ttl", "max_ttl", "num_uses_limit", "trusted_ips", "updated_at"] + extra.map(\.0)
        let values: [DBValue] = [.int(Int64(tokens.ttl)), .int(Int64(tokens.maxTTL)), .int(Int64(tokens.numUsesLimit)), .text(tokens.trustedIPsJSON),
                                 DBValue(platform.clock.now())] + extra.map(\.1)
        let sets = names.enumerated().map { "\($0.element) = $\($0.offset + 2)" }.joined(separator: ", ")
        let table = provider.configTable
        try await platform.database.transaction { db in
            try await db.query("UPDATE \(table) SET \(sets) WHERE id = $1", [.text(configId)] + values)
            try await Self.save(lockout, configId: configId, on: db)
        }
    }

    /// Deletes the config, detaches the method and revokes every token it issued, atomically.
    func delete(_ config: StoredAuthConfig<P.Config>) async throws -> Int {
        let p = platform, method = provider.method, table = provider.configTable
        return try await p.database.transaction { db in
            try await db.query("DELETE FROM \(table) WHERE id = $1", [.text(config.id)])
            try await db.query("DELETE FROM auth_lockout_policies WHERE config_id = $1", [.text(config.id)])
            try await p.identities.detachAuthMethod(identityId: config.identityId, method: method, on: db)
            return try await p.tokens.revokeAll(authConfigId: config.id, on: db)
        }
    }
}
