import Foundation
import ServiceLifecycle

/// Lockout of one identity's login method from one client address after repeated failures
/// (Infisical's `lockoutEnabled`, `lockoutThreshold`, `lockoutDurationSeconds`,
/// `lockoutCounterResetSeconds`). Kept in the database, so every replica sees the same lock.
public struct LockoutPolicy: Sendable, Equatable {
    public var enabled: Bool
    /// Failures in a row that lock.
    public var threshold: Int
    /// How long a lock lasts, seconds.
    public var duration: Int
    /// A failure older than this no longer counts towards the next, seconds.
    public var counterReset: Int

    public init(enabled: Bool = true, threshold: Int = 5, duration: Int = 300, counterReset: Int = 300) {
        self.enabled = enabled
        self.threshold = threshold
        self.duration = duration
        self.counterReset = counterReset
    }

    /// The fields as a request carries them (Infisical's names); all optional.
    public struct Input: Decodable, Sendable {
        public let lockoutEnabled: Bool?
        public let lockoutThreshold: Int?
        public let lockoutDurationSeconds: Int?
        public let lockoutCounterResetSeconds: Int?
    }

    /// Applies an input over this policy and validates the result.
    public func applying(_ input: Input) throws -> LockoutPolicy {
        var p = self
        if let v = input.lockoutEnabled { p.enabled = v }
        if let v = input.lockoutThreshold { p.threshold = v }
        if let v = input.lockoutDurationSeconds { p.duration = v }
        if let v = input.lockoutCounterResetSeconds { p.counterReset = v }
        return try p.validated()
    }

    /// Refuses values a lockout cannot use.
    public func validated() throws -> LockoutPolicy {
        guard (1...100).contains(threshold) else { throw APIError.badRequest("lockoutThreshold must be between 1 and 100") }
        guard (1...86_400).contains(duration) else { throw APIError.badRequest("lockoutDurationSeconds must be between 1 and 86400") }
        guard (1...86_400).contains(counterReset) else { throw APIError.badRequest("lockoutCounterResetSeconds must be between 1 and 86400") }
        return self
    }
}

/// The lock state of logins, per identity, method and client address.
struct LoginLockout: Sendable {
    let database: any Database
    let clock: TimeSource

    /// Throws 429 with `Retry-After` while `identityId`'s `method` is locked for `ip` (unless the
    /// policy was since switched off). Returns whether failures are on record, so a good login
    /// clears them only when there is something to clear.
    @discardableResult
    func check(identityId: String, method: String, ip: String, policy: LockoutPolicy) async throws -> Bool {
        guard policy.enabled else { return false }
        let now = clock.now()
        guard let row = try await database.first("SELECT locked_until FROM login_lockouts WHERE identity_id = $1 AND method = $2 AND client_ip = $3",
                                                 [.text(identityId), .text(method), .text(ip)]) else { return false }
        let until = try row.date("locked_until")
        if until > now {
            throw APIError.rateLimited("too many failed logins from this address; try again later", retryAfter: Int(until.timeIntervalSince(now).rounded(.up)))
        }
        return true
    }

    /// Counts a failure; returns the end of the lock when this failure locks. The count is kept
    /// by the database in one statement per step, so concurrent failures each count, and a lock
    /// is never shortened or lifted by a failure that raced it.
    func fail(identityId: String, method: String, ip: String, policy: LockoutPolicy) async throws -> Date? {
        guard policy.enabled else { return nil }
        let now = clock.now()
        let key: [DBValue] = [.text(identityId), .text(method), .text(ip)]
        return try await database.transaction { db in
            // Count, unless locked already; a count older than counterReset starts again.
            guard let row = try await db.first("""
                INSERT INTO login_lockouts (identity_id, method, client_ip, failures, last_failure_at, locked_until) VALUES ($1, $2, $3, 1, $4, 0)
                ON CONFLICT (identity_id, method, client_ip) DO UPDATE SET
                    failures = CASE WHEN login_lockouts.locked_until > $4 THEN login_lockouts.failures
                                    WHEN login_lockouts.last_failure_at > $5 THEN login_lockouts.failures + 1 ELSE 1 END,
                    last_failure_at = $4
                RETURNING failures, locked_until
                """, key + [DBValue(now), DBValue(now.addingTimeInterval(-TimeInterval(policy.counterReset)))]) else { return nil }
            guard try row.date("locked_until") <= now, try row.int("failures") >= Int64(policy.threshold) else { return nil }
            let until = now.addingTimeInterval(TimeInterval(policy.duration))
            let locked = try await db.query("""
                UPDATE login_lockouts SET locked_until = $4, failures = 0
                WHERE identity_id = $1 AND method = $2 AND client_ip = $3 AND locked_until <= $5 RETURNING locked_until
                """, key + [DBValue(until), DBValue(now)])
            return locked.isEmpty ? nil : until
        }
    }

    /// A good login clears the count.
    func succeed(identityId: String, method: String, ip: String) async throws {
        try await database.query("DELETE FROM login_lockouts WHERE identity_id = $1 AND method = $2 AND client_ip = $3",
                                 [.text(identityId), .text(method), .text(ip)])
    }
}

/// Forgets lockout counts nobody can be locked by any more: every failure of an unknown identity
/// or client id writes a row (so unknown ones lock like known ones), and without this the table
/// would grow with every guess.
public struct LoginLockoutJanitor: Service {
    let database: any Database
    let clock: TimeSource
    let interval: Duration
    /// Rows whose last failure is older than this, and whose lock has ended, go.
    let retention: TimeInterval

    public init(platform: Platform, interval: Duration = .seconds(600), retention: TimeInterval = 86_400) {
        database = platform.database
        clock = platform.clock
        self.interval = interval
        self.retention = retention
    }

    /// One sweep; returns how many rows went.
    @discardableResult
    public func sweep() async throws -> Int {
        let now = clock.now()
        return try await database.query("DELETE FROM login_lockouts WHERE last_failure_at < $1 AND locked_until < $2 RETURNING identity_id",
                                         [DBValue(now.addingTimeInterval(-retention)), DBValue(now)]).count
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = try? await sweep()
                try? await Task.sleep(for: interval)
            }
        }
    }
}
