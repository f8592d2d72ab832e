import Core
import Foundation

/// A signed-in person's console session. The cookie holds a random id; the row holds its hash,
/// the person's API access token (sealed), the CSRF token and the timeouts.
struct ConsoleSession: Sendable {
    let idHash: String
    let userId: String
    let orgId: String
    let email: String
    /// The person's organization role at sign-in: it only decides which links and lists the
    /// pages offer; the API decides what the person may do.
    let orgRole: String
    /// The person's bearer token for in-process API calls.
    let token: String
    let csrf: String
    let flash: String?
}

/// How long sessions live.
struct SessionTimeouts: Sendable {
    /// Without a request for this long, a session ends.
    let idle: TimeInterval
    /// A session ends this long after sign-in, whatever happens.
    let absolute: TimeInterval
}

/// Console sessions in the database, so they survive restarts and work across replicas, and
/// sign-out ends them everywhere.
struct ConsoleSessionStore: Sendable {
    let platform: Platform
    let timeouts: SessionTimeouts
    /// `last_seen_at` is written at most this often per session.
    static let touchInterval: TimeInterval = 30

    static func hash(_ id: String) -> String { SecureRandom.sha256Hex("console-session:" + id) }

    /// Starts a session for a signed-in person; returns the cookie value.
    func create(userId: String, orgId: String, email: String, orgRole: String, token: String, tokenExpiresIn: Int) async throws -> String {
        let id = SecureRandom.token()
        let hash = Self.hash(id)
        let now = platform.clock.now()
        let expires = now.addingTimeInterval(min(timeouts.absolute, TimeInterval(tokenExpiresIn)))
        let sealed = try platform.sealer.seal(token, context: "console-session:" + hash)
        try await platform.database.query(SQL("""
            INSERT INTO console_sessions (id_hash, user_id, org_id, email, org_role, token_sealed, csrf, created_at, last_seen_at, expires_at)
            VALUES (\(hash), \(userId), \(orgId), \(email), \(orgRole), \(sealed), \(SecureRandom.token()), \(now), \(now), \(expires))
            """))
        return id
    }

    /// The live session of a cookie value, refreshing its idle clock; nil when missing, idle
    /// too long or past its end (then it is deleted).
    func find(cookie: String) async throws -> ConsoleSession? {
        guard cookie.count >= 32, cookie.count <= 128 else { return nil }
        let hash = Self.hash(cookie)
        guard let row = try await platform.database.first(SQL("SELECT * FROM console_sessions WHERE id_hash = \(hash)")) else { return nil }
        let now = platform.clock.now()
        let lastSeen = try row.date("last_seen_at")
        // A token that cannot be opened (the sealing key changed) ends the session like a timeout.
        guard let token = try? platform.sealer.open(try row.string("token_sealed"), context: "console-session:" + hash) else {
            try await delete(hash: hash)
            return nil
        }
        if try row.date("expires_at") <= now || now.timeIntervalSince(lastSeen) > timeouts.idle {
            try await end(hash: hash, token: token)
            return nil
        }
        if now.timeIntervalSince(lastSeen) > Self.touchInterval {
            try await platform.database.query(SQL("UPDATE console_sessions SET last_seen_at = \(now) WHERE id_hash = \(hash)"))
        }
        return ConsoleSession(idHash: hash, userId: try row.string("user_id"), orgId: try row.string("org_id"), email: try row.string("email"),
                              orgRole: try row.string("org_role"), token: token, csrf: try row.string("csrf"), flash: try row.optionalString("flash"))
    }

    /// Ends a session: its access token is revoked (it must not outlive the session) and the
    /// row deleted. A token already gone (revoked, expired, its person removed) is fine.
    func end(hash: String, token: String) async throws {
        _ = try? await platform.tokens.revoke(token)
        try await delete(hash: hash)
    }

    /// Sets the one-line notice shown on the next page.
    func setFlash(_ hash: String, _ text: String?) async throws {
        try await platform.database.query(SQL("UPDATE console_sessions SET flash = \(text) WHERE id_hash = \(hash)"))
    }

    func delete(hash: String) async throws {
        try await platform.database.query(SQL("DELETE FROM console_sessions WHERE id_hash = \(hash)"))
    }

    /// Ends the sessions past their end or idle too long (run now and then), revoking their tokens.
    func sweep() async throws {
        let now = platform.clock.now()
        let idleSince = now.addingTimeInterval(-timeouts.idle)
        let rows = try await platform.database.query(SQL("""
            SELECT id_hash, token_sealed FROM console_sessions WHERE expires_at <= \(now) OR last_seen_at < \(idleSince) LIMIT 1000
            """))
        for row in rows {
            let hash = try row.string("id_hash")
            if let token = try? platform.sealer.open(try row.string("token_sealed"), context: "console-session:" + hash) {
                try await end(hash: hash, token: token)
            } else {
                try await delete(hash: hash)
            }
        }
    }
}
