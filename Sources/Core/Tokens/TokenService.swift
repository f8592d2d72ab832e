import Foundation
import Metrics

/// Issues, checks, renews and revokes access tokens. Tokens are opaque 256-bit random strings;
/// only their SHA-256 is stored, so a database dump yields no usable token.
public struct TokenService: Sendable {
    /// The prefix of every access token, so scanners can recognise a leaked one.
    public static let prefix = "kms_at_"

    let database: any Database
    let clock: TimeSource
    /// The in-process token cache (see ``TokenCache``).
    public let cache: TokenCache
    private let uses: UseCounter
    private let issued = Counter(label: "kms_tokens_issued_total")

    public init(database: any Database, clock: TimeSource, cache: TokenCache? = nil) {
        self.database = database
        self.clock = clock
        // Embedded SQLite has one writer, this process, so its cache never misses an invalidation.
        self.cache = cache ?? TokenCache(enabled: database.dialect == .sqlite)
        uses = UseCounter(database: database)
    }

    /// Clears every replica's token cache once `executor`'s transaction commits (Postgres
    /// delivers NOTIFY at commit) and this process's cache now.
    public func invalidateCaches(on executor: (any SQLExecutor)? = nil) async throws {
        cache.invalidateAll()
        let db = executor ?? database
        if db.dialect == .postgres {
            try await db.query("SELECT pg_notify($1, '')", [.text(TokenCache.channel)])
        }
    }

    static func hash(_ token: String) -> String { SecureRandom.sha256Hex(token) }

    private static let selectColumns = """
        SELECT t.*, i.role AS identity_role, i.is_instance_admin AS identity_admin
        FROM access_tokens t LEFT JOIN identities i ON i.id = t.identity_id
        """

    /// Issues a token. Returns the secret (shown once) and the stored record.
    public func issue(_ spec: TokenSpec, on executor: (any SQLExecutor)? = nil) async throws -> (token: String, record: AccessTokenRecord) {
        let (token, binds) = try Self.row(spec, now: clock.now())
        let id = binds[0]
        try await (executor ?? database).query("""
            INSERT INTO access_tokens (id, token_hash, org_id, identity_id, user_id, auth_method, auth_config_id,
                ttl, max_ttl, created_at, expires_at, max_expires_at, num_uses_limit, num_uses, trusted_ips)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14)
            """, binds)
        issued.increment()
        guard let row = try await (executor ?? database).first(Self.selectColumns + " WHERE t.id = $1", [id]) else {
            throw StorageError.other("issued token vanished")
        }
        return (token, try AccessTokenRecord(row: row))
    }

    /// Issues a token for an auth configuration only if that configuration still exists exactly
    /// as it was verified against (same `updated_at`), holding its row: a revoke or an update
    /// that commits first wins, and one that starts later waits and then revokes this token too.
    /// `table` is the provider's own config table. The audit entry `event(tokenId)` is appended
    /// in the same commit, so no token is ever stored without the entry that records its issue.
    public func issue(_ spec: TokenSpec, whileConfigUnchanged table: String, configId: String, updatedAt: Date, audit: AuditLog,
                      event: @escaping @Sendable (_ tokenId: String) -> AuditEvent) async throws -> (token: String, record: AccessTokenRecord) {
        if database.dialect == .postgres,
           let issued = try await issueInOneStatement(spec, table: table, configId: configId, updatedAt: updatedAt, audit: audit, event: event) {
            return issued
        }
        return try await database.transaction { db in
            let row = try await db.first("SELECT id FROM \(table) WHERE id = $1 AND updated_at = $2" + db.dialect.forShare,
                                         [.text(configId), DBValue(updatedAt)])
            // A race with an administrator, not a bad credential: it does not count towards a lockout.
            guard row != nil else { throw APIError.conflict("the auth configuration was changed or revoked during the login; log in again") }
            let issued = try await self.issue(spec, on: db)
            try await audit.record(event(issued.record.id), on: db)
            return issued
        }
    }

    /// Postgres: the check, the insert, the read-back and the audit append in one statement
    /// (one round trip and one commit); the config row is held `FOR SHARE` for the statement
    /// as a transaction would hold it, and the token and its entry are written together or not
    /// at all. Nil when nothing was written: the config changed, or the organization has no
    /// chain head yet; the transaction then tells which (and creates the head).
    private func issueInOneStatement(_ spec: TokenSpec, table: String, configId: String, updatedAt: Date, audit: AuditLog,
                                     event: @Sendable (String) -> AuditEvent) async throws -> (token: String, record: AccessTokenRecord)? {
        let values = try Self.row(spec, now: clock.now())
        guard case .text(let tokenId) = values.binds[0] else { throw StorageError.other("token id missing") }
        let entry = event(tokenId)
        let append = audit.appendCTEs(entry, bindOffset: 16, gate: "issued")
        let rows = try await database.query("""
            WITH config AS (SELECT id FROM \(table) WHERE id = $15 AND updated_at = $16 FOR SHARE),
            issued AS (
                INSERT INTO access_tokens (id, token_hash, org_id, identity_id, user_id, auth_method, auth_config_id,
                    ttl, max_ttl, created_at, expires_at, max_expires_at, num_uses_limit, num_uses, trusted_ips)
                SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14 FROM config
                WHERE EXISTS (SELECT 1 FROM audit_heads WHERE org_id = $17)
                RETURNING *),
            \(append.sql)
            SELECT t.*, i.role AS identity_role, i.is_instance_admin AS identity_admin, (SELECT seq FROM logged) AS audit_seq
            FROM issued t LEFT JOIN identities i ON i.id = t.identity_id
            """, values.binds + [.text(configId), DBValue(updatedAt)] + append.binds)
        guard let row = rows.first else { return nil }
        guard try row.optionalInt("audit_seq") != nil else { throw StorageError.other("a token was issued without its audit entry") }
        issued.increment()
        return (values.token, try AccessTokenRecord(row: row))
    }

    /// A new token's secret and the 14 values of its row, in the INSERT's column order.
    static func row(_ spec: TokenSpec, now: Date) throws -> (token: String, binds: [DBValue]) {
        guard spec.ttl >= 0, spec.maxTTL >= 0, spec.numUsesLimit >= 0 else { throw APIError.badRequest("token limits must not be negative") }
        if spec.maxTTL > 0, spec.ttl > spec.maxTTL { throw APIError.badRequest("accessTokenTTL must not exceed accessTokenMaxTTL") }
        let token = Self.prefix + SecureRandom.token()
        let maxExpires = spec.maxTTL > 0 ? now.addingTimeInterval(TimeInterval(spec.maxTTL)) : nil
        var expires = spec.ttl > 0 ? now.addingTimeInterval(TimeInterval(spec.ttl)) : maxExpires
        if let e = expires, let m = maxExpires, e > m { expires = m }
        let ips = JSONText.array(spec.trustedIPs.map(\.description))
        let (identity, user): (String?, String?) = switch spec.subject {
        case .identity(let id): (id, nil)
        case .user(let id): (nil, id)
        }
        return (token, [.text(SecureRandom.id()), .text(Self.hash(token)), .text(spec.orgId), DBValue(identity), DBValue(user),
                        .text(spec.authMethod), DBValue(spec.authConfigId), .int(Int64(spec.ttl)), .int(Int64(spec.maxTTL)),
                        DBValue(now), DBValue(expires), DBValue(maxExpires), .int(Int64(spec.numUsesLimit)), .text(ips)])
    }

    /// Looks a token up by its secret without counting a use.
    public func lookup(_ token: String) async throws -> AccessTokenRecord? {
        guard token.hasPrefix(Self.prefix) else { return nil }
        return try await database.first(Self.selectColumns + " WHERE t.token_hash = $1", [.text(Self.hash(token))])
            .map(AccessTokenRecord.init(row:))
    }

    /// Like ``lookup(_:)``, served from the cache when it can be trusted.
    func cachedLookup(_ token: String) async throws -> AccessTokenRecord? {
        guard token.hasPrefix(Self.prefix) else { return nil }
        let hash = Self.hash(token)
        let (cached, generation) = cache.lookup(hash)
        if let cached { return cached }
        guard let record = try await database.first(Self.selectColumns + " WHERE t.token_hash = $1", [.text(hash)]).map(AccessTokenRecord.init(row:)) else {
            return nil
        }
        cache.store(record, for: hash, generation: generation)
        return record
    }

    /// Authenticates one request: the token must exist, be unrevoked, unexpired, used from a
    /// trusted address, and have a use left. A limited token's use is counted by one atomic
    /// statement, so a limit of N admits exactly N requests across any number of replicas.
    public func authenticate(_ token: String, clientIP: String?) async throws -> AccessTokenRecord {
        guard let record = try await cachedLookup(token) else { throw APIError.unauthorized("invalid access token") }
        let now = clock.now()
        if record.revokedAt != nil { throw APIError.unauthorized("access token has been revoked") }
        if let expires = record.expiresAt, expires <= now { throw APIError.unauthorized("access token has expired") }
        try Self.requireTrusted(record, clientIP: clientIP)
        guard record.numUsesLimit > 0 else { return record }
        guard let counted = try await uses.count(id: record.id, now: now) else { throw APIError.unauthorized("access token has reached its use limit") }
        var used = record
        used.numUses = counted
        return used
    }

    /// Refuses a token used from outside its trusted ranges. Without a socket peer (in-process
    /// calls) only an unrestricted token is accepted.
    static func requireTrusted(_ record: AccessTokenRecord, clientIP: String?) throws {
        let allowed: Bool
        if let clientIP {
            // Parsed once, not once per range: this runs on every authenticated request.
            let address = IPRange.parseAddress(clientIP)
            allowed = address.map { address in record.trustedIPs.contains { $0.contains(address: address) } } ?? false
        } else {
            allowed = record.trustedIPs.contains { $0.prefixLength == 0 }
        }
        guard allowed else { throw APIError.forbidden("access token is not allowed from this IP address") }
    }

    /// Extends a token's expiry by its TTL from now, never past its max TTL. Expired and
    /// revoked tokens cannot be renewed, nor can a token be renewed from outside its trusted IPs.
    public func renew(_ token: String, clientIP: String?) async throws -> AccessTokenRecord {
        guard let record = try await lookup(token), record.revokedAt == nil else { throw APIError.unauthorized("invalid access token") }
        try Self.requireTrusted(record, clientIP: clientIP)
        let now = clock.now()
        if let expires = record.expiresAt, expires <= now { throw APIError.unauthorized("access token has expired and cannot be renewed") }
        if record.numUsesLimit > 0, record.numUses >= record.numUsesLimit { throw APIError.unauthorized("access token has reached its use limit") }
        guard record.ttl > 0 else { throw APIError.badRequest("access token has no TTL and does not need renewing") }
        var newExpiry = now.addingTimeInterval(TimeInterval(record.ttl))
        if let max = record.maxExpiresAt {
            if max <= now { throw APIError.unauthorized("access token has reached its max TTL") }
            newExpiry = min(newExpiry, max)
        }
        let expiry = newExpiry
        try await database.transaction { db in
            try await db.query("UPDATE access_tokens SET expires_at = $2 WHERE id = $1 AND revoked_at IS NULL", [.text(record.id), DBValue(expiry)])
            try await self.invalidateCaches(on: db)
        }
        guard let renewed = try await lookup(token) else { throw APIError.unauthorized("invalid access token") }
        return renewed
    }

    /// Revokes one token by its secret. Returns the record it revoked.
    @discardableResult
    public func revoke(_ token: String) async throws -> AccessTokenRecord {
        guard let record = try await lookup(token), record.revokedAt == nil else { throw APIError.unauthorized("invalid access token") }
        let now = clock.now()
        try await database.transaction { db in
            try await db.query("UPDATE access_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", [.text(record.id), DBValue(now)])
            try await self.invalidateCaches(on: db)
        }
        return record
    }

    /// Revokes every token issued through one auth configuration; returns how many.
    @discardableResult
    public func revokeAll(authConfigId: String, on executor: (any SQLExecutor)? = nil) async throws -> Int {
        let count = try await (executor ?? database).query(
            "UPDATE access_tokens SET revoked_at = $2 WHERE auth_config_id = $1 AND revoked_at IS NULL RETURNING id",
            [.text(authConfigId), DBValue(clock.now())]).count
        try await invalidateCaches(on: executor)
        return count
    }

    /// Revokes every token of a person; returns how many.
    @discardableResult
    public func revokeAll(userId: String, on executor: (any SQLExecutor)? = nil) async throws -> Int {
        let count = try await (executor ?? database).query(
            "UPDATE access_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL RETURNING id",
            [.text(userId), DBValue(clock.now())]).count
        try await invalidateCaches(on: executor)
        return count
    }

    /// Revokes every token of an identity; returns how many.
    @discardableResult
    public func revokeAll(identityId: String, on executor: (any SQLExecutor)? = nil) async throws -> Int {
        let count = try await (executor ?? database).query(
            "UPDATE access_tokens SET revoked_at = $2 WHERE identity_id = $1 AND revoked_at IS NULL RETURNING id",
            [.text(identityId), DBValue(clock.now())]).count
        try await invalidateCaches(on: executor)
        return count
    }
}
