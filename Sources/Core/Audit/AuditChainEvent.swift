import Foundation

/// An audit entry as it leaves the server (to a SIEM, a file): the fields of the list route plus
/// its place in the organization's hash chain and the exact texts the hash covers, so a receiver
/// can check for gaps and edits without trusting the transport or the server.
public struct AuditChainEvent: Codable, Sendable, Equatable {
    public struct Actor: Codable, Sendable, Equatable {
        public let type: String
        public let metadata: [String: String]
    }
    /// What the hash covers that the readable fields do not carry byte for byte.
    public struct Canonical: Codable, Sendable, Equatable {
        /// The stored JSON of the actor and of the event metadata.
        public let actor: String
        public let eventMetadata: String
        public let createdAtMs: Int64
    }
    public struct Chain: Codable, Sendable, Equatable {
        public let sequence: Int64
        public let previousHash: String
        public let hash: String
        public let canonical: Canonical
    }

    public let id: String
    public let eventType: String
    public let actor: Actor
    public let ipAddress: String?
    public let userAgent: String?
    public let orgId: String
    public let projectId: String?
    public let eventMetadata: [String: String]
    public let createdAt: String
    public let chain: Chain

    public init(_ entry: AuditEntry) {
        var meta = entry.actor.metadata
        if let id = entry.actor.id { meta["id"] = id }
        id = entry.id
        eventType = entry.eventType
        actor = Actor(type: entry.actor.type, metadata: meta)
        ipAddress = entry.ipAddress
        userAgent = entry.userAgent
        orgId = entry.orgId
        projectId = entry.projectId
        eventMetadata = entry.metadata
        createdAt = ISO8601Format.string(entry.createdAt)
        chain = Chain(sequence: entry.seq, previousHash: entry.prevHash, hash: entry.hash,
                      canonical: Canonical(actor: entry.rawActor, eventMetadata: entry.rawMetadata, createdAtMs: entry.createdAtMs))
    }

    /// Whether the readable fields say what the hashed canonical texts say: an edit of the
    /// readable copy (what a SIEM indexes) must not pass for intact.
    public var readableMatchesCanonical: Bool {
        let decoder = JSONDecoder()
        guard let canonicalActor = try? decoder.decode(AuditActor.self, from: Data(chain.canonical.actor.utf8)),
              let canonicalMetadata = try? decoder.decode([String: String].self, from: Data(chain.canonical.eventMetadata.utf8)) else { return false }
        var meta = canonicalActor.metadata
        if let id = canonicalActor.id { meta["id"] = id }
        return canonicalActor.type == actor.type && meta == actor.metadata && canonicalMetadata == eventMetadata
            && createdAt == ISO8601Format.string(Date(milliseconds: chain.canonical.createdAtMs))
    }

    /// The hash recomputed from the event's own fields (as the server computed it on append).
    public var recomputedHash: String {
        AuditLog.digest(prevHash: chain.previousHash, id: id, orgId: orgId, seq: chain.sequence, eventType: eventType, actor: chain.canonical.actor,
                        ip: ipAddress, userAgent: userAgent, projectId: projectId, metadata: chain.canonical.eventMetadata,
                        createdAt: chain.canonical.createdAtMs)
    }
}

/// A receiver-side check of received events: in any order, duplicates allowed.
public enum AuditChainCheck {
    public struct Result: Sendable, Equatable {
        /// Distinct entries checked.
        public let checked: Int
        /// Entries received more than once (identical each time).
        public let duplicates: Int
        public let first: Int64?
        public let last: Int64?
        /// The first problem found, or nil when the events are one unbroken stretch of the chain.
        public let problem: String?
    }

    /// Checks that `events` of one organization are a contiguous, unedited stretch of its chain:
    /// every sequence from the first to the last is there, each entry's hash is its content's,
    /// and each links to the one before. `from` asks that the stretch start at that sequence
    /// (1: the whole chain, whose first entry links to the empty hash).
    public static func verify(_ events: [AuditChainEvent], from: Int64? = nil) -> Result {
        var bySequence: [Int64: AuditChainEvent] = [:]
        var duplicates = 0
        func result(_ problem: String?) -> Result {
            let keys = bySequence.keys
            return Result(checked: bySequence.count, duplicates: duplicates, first: keys.min(), last: keys.max(), problem: problem)
        }
        for event in events {
            if let seen = bySequence[event.chain.sequence] {
                guard seen == event else { return result("sequence \(event.chain.sequence) was received twice with different content") }
                duplicates += 1
            } else {
                bySequence[event.chain.sequence] = event
            }
        }
        guard Set(events.map(\.orgId)).count <= 1 else { return result("the events belong to more than one organization") }
        let sorted = bySequence.keys.sorted()
        guard let first = sorted.first else { return result("no events received") }
        if let from, first != from { return result("the first event received is sequence \(first), expected \(from): \(first - from) missing before it") }
        var previous: AuditChainEvent?
        for sequence in sorted {
            let event = bySequence[sequence]!
            if let previous {
                guard sequence == previous.chain.sequence + 1 else {
                    return result("gap: sequences \(previous.chain.sequence + 1) to \(sequence - 1) are missing")
                }
                guard SecureRandom.constantTimeEquals(event.chain.previousHash, previous.chain.hash) else {
                    return result("sequence \(sequence) (\(event.id)) does not link to sequence \(previous.chain.sequence)")
                }
            } else if sequence == 1, !event.chain.previousHash.isEmpty {
                return result("sequence 1 (\(event.id)) does not start the chain")
            }
            guard SecureRandom.constantTimeEquals(event.recomputedHash, event.chain.hash) else {
                return result("sequence \(sequence) (\(event.id)) was edited: its content does not match its hash")
            }
            guard event.readableMatchesCanonical else {
                return result("sequence \(sequence) (\(event.id)) was edited: its readable fields differ from the hashed ones")
            }
            previous = event
        }
        return result(nil)
    }
}
