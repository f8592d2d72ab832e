import Core
import Foundation

/// A stored stream with its delivery state.
struct AuditStream: Sendable {
    let id: String
    let orgId: String
    let name: String
    let kind: String
    let destination: StreamDestination
    let secrets: StreamSecrets
    let cursor: Int64
    let failures: Int
    let lastSuccessAt: Date?
    let lastError: String?
    let createdAt: Date
    let updatedAt: Date
}

/// Storage of streams: every query scoped to an organization or to a stream's id; delivery
/// claims a stream with a lease row-update, so one replica sends for it at a time.
struct AuditStreamStore: Sendable {
    let platform: Platform
    var database: any Database { platform.database }
    static let sealingContext = "audit-stream"

    func stream(_ row: DBRow) throws -> AuditStream {
        let decoder = JSONDecoder()
        let destination = try decoder.decode(StreamDestination.self, from: Data(try row.string("destination").utf8))
        let secrets = try decoder.decode(StreamSecrets.self, from: Data(try platform.sealer.open(try row.string("sealed_secrets"),
                                                                                                  context: Self.sealingContext + "/" + (try row.string("id"))).utf8))
        return AuditStream(id: try row.string("id"), orgId: try row.string("org_id"), name: try row.string("name"), kind: try row.string("kind"),
                           destination: destination, secrets: secrets, cursor: try row.int("cursor_seq"), failures: Int(try row.int("failures")),
                           lastSuccessAt: try row.optionalDate("last_success_at"), lastError: try row.optionalString("last_error"),
                           createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }

    private func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    func create(orgId: String, name: String, kind: String, destination: StreamDestination, secrets: StreamSecrets, cursor: Int64) async throws -> AuditStream {
        let id = SecureRandom.id(), now = platform.clock.now()
        let sealed = try platform.sealer.seal(try encode(secrets), context: Self.sealingContext + "/" + id)
        do {
            try await database.query(SQL("""
                INSERT INTO audit_stream_configs (id, org_id, name, kind, destination, sealed_secrets, cursor_seq, created_at, updated_at)
                VALUES (\(id), \(orgId), \(name), \(kind), \(try encode(destination)), \(sealed), \(cursor), \(now), \(now))
                """))
        } catch StorageError.uniqueViolation {
            throw APIError.conflict("a stream named \(name) already exists in this organization")
        }
        return try await find(id: id, orgId: orgId)!
    }

    func find(id: String, orgId: String) async throws -> AuditStream? {
        try await database.first(SQL("SELECT * FROM audit_stream_configs WHERE id = \(id) AND org_id = \(orgId)")).map(stream)
    }

    func list(orgId: String) async throws -> [AuditStream] {
        try await database.query(SQL("SELECT * FROM audit_stream_configs WHERE org_id = \(orgId) ORDER BY name")).map(stream)
    }

    /// Changes the config; the cursor stays, so nothing is skipped or sent twice by an edit.
    func update(_ stream: AuditStream, name: String, destination: StreamDestination, secrets: StreamSecrets) async throws -> AuditStream {
        let sealed = try platform.sealer.seal(try encode(secrets), context: Self.sealingContext + "/" + stream.id)
        do {
            try await database.query(SQL("""
                UPDATE audit_stream_configs SET name = \(name), destination = \(try encode(destination)), sealed_secrets = \(sealed),
                    failures = 0, next_attempt_at = 0, updated_at = \(platform.clock.now())
                WHERE id = \(stream.id) AND org_id = \(stream.orgId)
                """))
        } catch StorageError.uniqueViolation {
            throw APIError.conflict("a stream named \(name) already exists in this organization")
        }
        return try await find(id: stream.id, orgId: stream.orgId)!
    }

    func delete(_ stream: AuditStream) async throws {
        try await database.query(SQL("DELETE FROM audit_stream_configs WHERE id = \(stream.id) AND org_id = \(stream.orgId)"))
    }

    // MARK: Delivery

    /// Streams with undelivered entries, due and held by no other replica now (an idle stream
    /// costs one read per poll, no writes).
    func due(now: Date) async throws -> [String] {
        try await database.query(SQL("""
            SELECT s.id FROM audit_stream_configs s JOIN audit_heads h ON h.org_id = s.org_id
            WHERE h.seq > s.cursor_seq AND s.next_attempt_at <= \(now) AND s.lease_until <= \(now)
            """)).map { try $0.string("id") }
    }

    /// Streams an organization has.
    func count(orgId: String) async throws -> Int {
        Int(try await database.first(SQL("SELECT COUNT(*) AS n FROM audit_stream_configs WHERE org_id = \(orgId)"))?.int("n") ?? 0)
    }

    /// Takes (or extends) the lease on a stream: true when this replica now holds it.
    func claim(id: String, owner: String, now: Date, until: Date) async throws -> AuditStream? {
        try await database.first(SQL("""
            UPDATE audit_stream_configs SET lease_owner = \(owner), lease_until = \(until)
            WHERE id = \(id) AND (lease_until <= \(now) OR lease_owner = \(owner)) RETURNING *
            """)).map(stream)
    }

    /// Records a delivered batch, only while this replica still holds the lease.
    func delivered(id: String, owner: String, through sequence: Int64, now: Date, leaseUntil: Date) async throws -> Bool {
        try await database.first(SQL("""
            UPDATE audit_stream_configs SET cursor_seq = \(sequence), failures = 0, next_attempt_at = 0, last_success_at = \(now),
                last_error = NULL, lease_until = \(leaseUntil)
            WHERE id = \(id) AND lease_owner = \(owner) AND cursor_seq < \(sequence) RETURNING id
            """)) != nil
    }

    /// Records a failure and when to try again; gives up the lease so any replica may retry.
    func failed(id: String, owner: String, error: String, nextAttempt: Date) async throws {
        try await database.query(SQL("""
            UPDATE audit_stream_configs SET failures = failures + 1, last_error = \(String(error.prefix(1000))), next_attempt_at = \(nextAttempt),
                lease_until = 0
            WHERE id = \(id) AND lease_owner = \(owner)
            """))
    }

    /// Gives up the lease after an idle pass, so another replica can pick the stream up at once
    /// if this one stops.
    func release(id: String, owner: String) async throws {
        try await database.query(SQL("UPDATE audit_stream_configs SET lease_until = 0 WHERE id = \(id) AND lease_owner = \(owner)"))
    }

    /// Seconds since the first undelivered entry was written (0 when none waits).
    func lagSeconds(orgId: String, cursor: Int64, now: Date) async throws -> Int {
        guard let next = try await platform.audit.entries(orgId: orgId, after: cursor, limit: 1).first else { return 0 }
        return max(0, Int(now.timeIntervalSince(next.createdAt)))
    }
}
