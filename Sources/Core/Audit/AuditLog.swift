import Crypto
import Foundation
import Logging

/// Who did something, as the audit log records it.
public struct AuditActor: Sendable, Codable, Equatable {
    /// `user`, `identity`, `system` or `anonymous`.
    public let type: String
    public let id: String?
    public let metadata: [String: String]

    public init(type: String, id: String?, metadata: [String: String] = [:]) {
        self.type = type
        self.id = id
        self.metadata = metadata
    }

    public static let system = AuditActor(type: "system", id: nil)
    public static let anonymous = AuditActor(type: "anonymous", id: nil)
}

/// One thing that happened. Metadata must never carry a secret: ids, names and outcomes only.
public struct AuditEvent: Sendable {
    public let eventType: String
    public let orgId: String
    public let projectId: String?
    public let actor: AuditActor
    public let ipAddress: String?
    public let userAgent: String?
    public let metadata: [String: String]

    public init(_ eventType: String, orgId: String, projectId: String? = nil, actor: AuditActor,
                ipAddress: String? = nil, userAgent: String? = nil, metadata: [String: String] = [:]) {
        self.eventType = eventType
        self.orgId = orgId
        self.projectId = projectId
        self.actor = actor
        self.ipAddress = ipAddress
        self.userAgent = userAgent
        self.metadata = metadata
    }
}

/// A stored audit entry.
public struct AuditEntry: Sendable {
    public let id: String
    public let orgId: String
    public let seq: Int64
    public let eventType: String
    public let actor: AuditActor
    public let ipAddress: String?
    public let userAgent: String?
    public let projectId: String?
    public let metadata: [String: String]
    public let createdAt: Date
    let prevHash: String
    let hash: String
    let rawActor: String
    let rawMetadata: String
    /// `createdAt` as stored (what the hash covers), without a round trip through `Date`.
    let createdAtMs: Int64
}

/// Filters for listing the log.
public struct AuditQuery: Sendable {
    public var eventType: String?
    public var actorId: String?
    public var projectId: String?
    public var startDate: Date?
    public var endDate: Date?
    public var offset: Int = 0
    public var limit: Int = 50
    /// Keyset paging: only entries older than this sequence. Unlike `offset`, a deep page costs
    /// the same as the first.
    public var before: Int64?

    public init() {}
}

/// The result of walking an organization's hash chain.
public struct AuditVerification: Sendable, Codable {
    public let valid: Bool
    public let checked: Int
    public let firstBrokenId: String?
}

/// The append-only, hash-chained audit log. Each entry stores the SHA-256 of its organization's
/// previous entry; appends take a row lock on the chain head so the chain stays linear even with
/// several replicas writing at once.
public struct AuditLog: Sendable {
    let database: any Database
    let clock: TimeSource
    let logger: Logger
    /// Limits the entries unauthenticated failures may write (see ``recordFailure(_:)``).
    public let failureBudget: FailureAuditBudget

    public init(database: any Database, clock: TimeSource, logger: Logger, failureBudget: FailureAuditBudget = FailureAuditBudget()) {
        self.database = database
        self.clock = clock
        self.logger = logger
        self.failureBudget = failureBudget
    }

    private static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func digest(prevHash: String, id: String, orgId: String, seq: Int64, eventType: String, actor: String,
                       ip: String?, userAgent: String?, projectId: String?, metadata: String, createdAt: Int64) -> String {
        let fields = [prevHash, id, orgId, String(seq), eventType, actor, ip ?? "", userAgent ?? "", projectId ?? "", metadata, String(createdAt)]
        return hexString(SHA256.hash(data: Data(fields.joined(separator: "\u{1F}").utf8)))
    }

    /// Appends an event. Pass `executor` to make the entry part of a caller's transaction.
    public func record(_ event: AuditEvent, on executor: (any SQLExecutor)? = nil) async throws {
        if let executor {
            try await append(event, executor)
        } else if database.dialect == .postgres, try await appendInOneStatement(event, database) {
            return  // one statement commits on its own: no BEGIN/COMMIT round trips
        } else {
            try await database.transaction { try await self.append(event, $0) }
        }
    }

    /// Appends several events in one transaction: one commit and one hold of each chain's lock
    /// for all of them (the reaper's batches).
    public func record(_ events: [AuditEvent]) async throws {
        guard !events.isEmpty else { return }
        try await database.transaction { db in
            for org in Set(events.map(\.orgId)).sorted() {  // a fixed order of chain locks: no deadlock between replicas
                let mine = events.filter { $0.orgId == org }
                for start in stride(from: 0, to: mine.count, by: 64) { try await self.append(Array(mine[start..<min(start + 64, mine.count)]), db) }
            }
        }
    }

    /// Postgres: the whole append in one statement (one round trip instead of six): the head row
    /// is locked, the entry's hash computed by the server exactly as ``digest(prevHash:id:orgId:seq:eventType:actor:ip:userAgent:projectId:metadata:createdAt:)``
    /// does (the fields joined by U+001F, SHA-256 of the UTF-8), the entry written and the head
    /// moved. False when the organization has no chain head yet (its first entry takes the
    /// general path, which creates it).
    private func appendInOneStatement(_ event: AuditEvent, _ db: any SQLExecutor) async throws -> Bool {
        let append = appendCTEs(event)
        return try await !db.query("WITH \(append.sql) SELECT seq FROM logged", append.binds).isEmpty
    }

    /// Postgres: the common table expressions of an append in one statement, for a caller to
    /// put in its own statement (`old`, `entry`, `head`, and `logged`, which yields the new
    /// entry's `seq`): the chain head is locked, the hash computed by the server as ``append(_:_:)``
    /// computes it, the entry written and the head moved. Binds are numbered after
    /// `bindOffset`; with `gate`, the entry is written only if that expression yields a row.
    /// Nothing is written when the organization has no chain head yet.
    func appendCTEs(_ event: AuditEvent, bindOffset offset: Int = 0, gate: String? = nil) -> (sql: String, binds: [DBValue]) {
        func p(_ n: Int) -> String { "$\(n + offset)" }
        let only = gate.map { " WHERE EXISTS (SELECT 1 FROM \($0))" } ?? ""
        let sql = """
            old AS (SELECT seq, last_hash FROM audit_heads WHERE org_id = \(p(1)) FOR UPDATE),
            entry AS (SELECT old.seq + 1 AS seq, old.last_hash AS prev,
                        encode(sha256(convert_to(concat_ws(chr(31), old.last_hash, \(p(2))::text, \(p(1))::text, (old.seq + 1)::text, \(p(3))::text,
                                                           \(p(4))::text, \(p(5))::text, \(p(6))::text, \(p(7))::text, \(p(8))::text,
                                                           \(p(9))::bigint::text), 'UTF8')), 'hex') AS hash
                      FROM old\(only)),
            head AS (UPDATE audit_heads SET seq = entry.seq, last_hash = entry.hash FROM entry WHERE audit_heads.org_id = \(p(1)) RETURNING audit_heads.seq),
            logged AS (INSERT INTO audit_log (id, org_id, seq, prev_hash, hash, event_type, actor_type, actor_id, actor_metadata, ip_address, user_agent,
                                              project_id, event_metadata, created_at)
                       SELECT \(p(2)), \(p(1)), entry.seq, entry.prev, entry.hash, \(p(3)), \(p(10)), \(p(11)), \(p(4)), \(p(12)), \(p(13)), \(p(14)),
                              \(p(8)), \(p(9)) FROM entry
                       RETURNING seq)
            """
        return (sql, [.text(event.orgId), .text(SecureRandom.id()), .text(event.eventType), .text(Self.json(event.actor)), .text(event.ipAddress ?? ""),
                      .text(event.userAgent ?? ""), .text(event.projectId ?? ""), .text(Self.json(event.metadata)), .int(clock.now().milliseconds),
                      .text(event.actor.type), DBValue(event.actor.id), DBValue(event.ipAddress), DBValue(event.userAgent), DBValue(event.projectId)])
    }

    /// Appends events of one organization under one hold of its chain's lock, in one INSERT.
    private func append(_ events: [AuditEvent], _ db: any SQLExecutor) async throws {
        guard let orgId = events.first?.orgId else { return }
        try await db.query("INSERT INTO audit_heads (org_id, seq, last_hash) VALUES ($1, 0, '') ON CONFLICT (org_id) DO NOTHING", [.text(orgId)])
        guard let head = try await db.first("SELECT seq, last_hash FROM audit_heads WHERE org_id = $1" + db.dialect.forUpdate,
                                            [.text(orgId)]) else { throw StorageError.other("audit head missing") }
        var seq = try head.int("seq")
        var prev = try head.string("last_hash")
        var rows: [String] = []
        var binds: [DBValue] = []
        for event in events {
            seq += 1
            let id = SecureRandom.id()
            let created = clock.now().milliseconds
            let actor = Self.json(event.actor)
            let metadata = Self.json(event.metadata)
            let hash = Self.digest(prevHash: prev, id: id, orgId: orgId, seq: seq, eventType: event.eventType, actor: actor,
                                   ip: event.ipAddress, userAgent: event.userAgent, projectId: event.projectId, metadata: metadata, createdAt: created)
            let base = binds.count
            rows.append("(" + (1...14).map { "$\(base + $0)" }.joined(separator: ", ") + ")")
            binds += [.text(id), .text(orgId), .int(seq), .text(prev), .text(hash), .text(event.eventType), .text(event.actor.type), DBValue(event.actor.id),
                      .text(actor), DBValue(event.ipAddress), DBValue(event.userAgent), DBValue(event.projectId), .text(metadata), .int(created)]
            prev = hash
        }
        try await db.query("""
            INSERT INTO audit_log (id, org_id, seq, prev_hash, hash, event_type, actor_type, actor_id, actor_metadata,
                ip_address, user_agent, project_id, event_metadata, created_at) VALUES \(rows.joined(separator: ", "))
            """, binds)
        try await db.query("UPDATE audit_heads SET seq = $2, last_hash = $3 WHERE org_id = $1", [.text(orgId), .int(seq), .text(prev)])
    }

    private func append(_ event: AuditEvent, _ db: any SQLExecutor) async throws {
        if db.dialect == .postgres, try await appendInOneStatement(event, db) { return }
        try await db.query("INSERT INTO audit_heads (org_id, seq, last_hash) VALUES ($1, 0, '') ON CONFLICT (org_id) DO NOTHING",
                           [.text(event.orgId)])
        guard let head = try await db.first("SELECT seq, last_hash FROM audit_heads WHERE org_id = $1" + db.dialect.forUpdate,
                                            [.text(event.orgId)]) else { throw StorageError.other("audit head missing") }
        let seq = try head.int("seq") + 1
        let prev = try head.string("last_hash")
        let id = SecureRandom.id()
        let created = clock.now().milliseconds
        let actor = Self.json(event.actor)
        let metadata = Self.json(event.metadata)
        let hash = Self.digest(prevHash: prev, id: id, orgId: event.orgId, seq: seq, eventType: event.eventType, actor: actor,
                               ip: event.ipAddress, userAgent: event.userAgent, projectId: event.projectId, metadata: metadata, createdAt: created)
        try await db.query("""
            INSERT INTO audit_log (id, org_id, seq, prev_hash, hash, event_type, actor_type, actor_id, actor_metadata,
                ip_address, user_agent, project_id, event_metadata, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
            """, [.text(id), .text(event.orgId), .int(seq), .text(prev), .text(hash), .text(event.eventType),
                  .text(event.actor.type), DBValue(event.actor.id), .text(actor), DBValue(event.ipAddress),
                  DBValue(event.userAgent), DBValue(event.projectId), .text(metadata), .int(created)])
        try await db.query("UPDATE audit_heads SET seq = $2, last_hash = $3 WHERE org_id = $1", [.text(event.orgId), .int(seq), .text(hash)])
    }

    /// An organization's entries after `sequence`, in chain order: what a stream delivers next.
    public func entries(orgId: String, after sequence: Int64, limit: Int) async throws -> [AuditEntry] {
        try await database.query(SQL("SELECT * FROM audit_log WHERE org_id = \(orgId) AND seq > \(sequence) ORDER BY seq LIMIT \(limit)")).map(Self.entry)
    }

    /// The sequence of an organization's latest entry (0 when it has none).
    public func headSequence(orgId: String) async throws -> Int64 {
        try await database.first(SQL("SELECT seq FROM audit_heads WHERE org_id = \(orgId)")).map { try $0.int("seq") } ?? 0
    }

    /// Lists an organization's entries, newest first.
    public func list(orgId: String, _ q: AuditQuery) async throws -> [AuditEntry] {
        var sql = "SELECT * FROM audit_log WHERE org_id = $1"
        var binds: [DBValue] = [.text(orgId)]
        func add(_ clause: String, _ value: DBValue) {
            binds.append(value)
            sql += " AND \(clause) $\(binds.count)"
        }
        if let v = q.eventType { add("event_type =", .text(v)) }
        if let v = q.actorId { add("actor_id =", .text(v)) }
        if let v = q.projectId { add("project_id =", .text(v)) }
        if let v = q.startDate { add("created_at >=", DBValue(v)) }
        if let v = q.endDate { add("created_at <=", DBValue(v)) }
        if let v = q.before { add("seq <", .int(v)) }
        binds += [.int(Int64(q.limit)), .int(Int64(q.offset))]
        sql += " ORDER BY seq DESC LIMIT $\(binds.count - 1) OFFSET $\(binds.count)"
        return try await database.query(sql, binds).map(Self.entry)
    }

    /// Walks the organization's chain and reports the first entry whose link or content hash
    /// does not match: from the start, or over the `last` entries only (then the entry before
    /// them is trusted as the anchor, and the cost is linear in `last`).
    public func verify(orgId: String, last: Int? = nil) async throws -> AuditVerification {
        var prev = ""
        var checked = 0
        var expectedSeq: Int64 = 1
        var after: Int64 = 0
        if let last {
            after = max(0, try await headSequence(orgId: orgId) - Int64(last))
            if after > 0 {
                guard let anchor = try await database.first(SQL("SELECT hash FROM audit_log WHERE org_id = \(orgId) AND seq = \(after)")) else {
                    return AuditVerification(valid: false, checked: 0, firstBrokenId: nil)
                }
                prev = try anchor.string("hash")
                expectedSeq = after + 1
            }
        }
        while true {
            let rows = try await database.query("SELECT * FROM audit_log WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT 500",
                                                [.text(orgId), .int(after)])
            if rows.isEmpty { break }
            for row in rows {
                let e = try Self.entry(row)
                let recomputed = Self.digest(prevHash: e.prevHash, id: e.id, orgId: e.orgId, seq: e.seq, eventType: e.eventType,
                                             actor: e.rawActor, ip: e.ipAddress, userAgent: e.userAgent, projectId: e.projectId,
                                             metadata: e.rawMetadata, createdAt: e.createdAt.milliseconds)
                let intact = e.seq == expectedSeq && SecureRandom.constantTimeEquals(e.prevHash, prev)
                    && SecureRandom.constantTimeEquals(recomputed, e.hash)
                if !intact { return AuditVerification(valid: false, checked: checked, firstBrokenId: e.id) }
                prev = e.hash
                checked += 1
                expectedSeq += 1
                after = e.seq
            }
        }
        if let head = try await database.first("SELECT seq, last_hash FROM audit_heads WHERE org_id = $1", [.text(orgId)]) {
            // Entries deleted from the end leave the head pointing past the last one.
            if try head.int("seq") != expectedSeq - 1 || !SecureRandom.constantTimeEquals(try head.string("last_hash"), prev) {
                return AuditVerification(valid: false, checked: checked, firstBrokenId: nil)
            }
        }
        return AuditVerification(valid: true, checked: checked, firstBrokenId: nil)
    }

    static func entry(_ row: DBRow) throws -> AuditEntry {
        let rawActor = try row.string("actor_metadata")
        let rawMetadata = try row.string("event_metadata")
        let decoder = JSONDecoder()
        let fallbackActor = AuditActor(type: try row.string("actor_type"), id: try row.optionalString("actor_id"))
        return AuditEntry(
            id: try row.string("id"), orgId: try row.string("org_id"), seq: try row.int("seq"),
            eventType: try row.string("event_type"),
            actor: (try? decoder.decode(AuditActor.self, from: Data(rawActor.utf8))) ?? fallbackActor,
            ipAddress: try row.optionalString("ip_address"), userAgent: try row.optionalString("user_agent"),
            projectId: try row.optionalString("project_id"),
            metadata: (try? decoder.decode([String: String].self, from: Data(rawMetadata.utf8))) ?? [:],
            createdAt: try row.date("created_at"), prevHash: try row.string("prev_hash"), hash: try row.string("hash"),
            rawActor: rawActor, rawMetadata: rawMetadata, createdAtMs: try row.int("created_at"))
    }
}
