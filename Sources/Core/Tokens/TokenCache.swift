import Foundation
import Synchronization

/// A short-lived in-process cache of token records, so an authenticated request needs no
/// database round trip. It is only trusted while invalidations can reach it: on Postgres a
/// LISTEN connection clears it whenever any replica revokes, renews or changes what a token
/// grants, and it is switched off whenever that connection is down. Num-uses-limited tokens
/// still count every use in the database.
public final class TokenCache: Sendable {
    struct Entry {
        let record: AccessTokenRecord
        let storedAt: ContinuousClock.Instant
    }
    struct State {
        var entries: [String: Entry] = [:]
        var generation: UInt64 = 0
        var enabled: Bool
    }

    private let state: Mutex<State>
    let ttl: Duration
    let capacity: Int

    /// The notification channel replicas use to tell each other to clear their caches.
    public static let channel = "kms_token_cache"

    public init(enabled: Bool, ttl: Duration = .seconds(10), capacity: Int = 50_000) {
        state = Mutex(State(enabled: enabled))
        self.ttl = ttl
        self.capacity = capacity
    }

    /// A cached record, or nil; also returns the generation to pass to ``store(_:for:generation:)``.
    func lookup(_ hash: String) -> (record: AccessTokenRecord?, generation: UInt64) {
        let now = ContinuousClock.now
        return state.withLock { s in
            guard s.enabled, let entry = s.entries[hash], now - entry.storedAt < ttl else { return (nil, s.generation) }
            return (entry.record, s.generation)
        }
    }

    /// Caches a record read at `generation`; dropped if an invalidation happened since, so a
    /// read that raced a revocation never repopulates the cache.
    func store(_ record: AccessTokenRecord, for hash: String, generation: UInt64) {
        let now = ContinuousClock.now
        state.withLock { s in
            guard s.enabled, s.generation == generation else { return }
            if s.entries.count >= capacity { s.entries.removeAll(keepingCapacity: true) }
            s.entries[hash] = Entry(record: record, storedAt: now)
        }
    }

    /// Forgets everything.
    public func invalidateAll() {
        state.withLock { s in
            s.entries.removeAll(keepingCapacity: true)
            s.generation &+= 1
        }
    }

    /// Turns the cache on (invalidations are flowing) or off (they may be missed).
    public func setEnabled(_ enabled: Bool) {
        state.withLock { s in
            s.enabled = enabled
            s.entries.removeAll(keepingCapacity: true)
            s.generation &+= 1
        }
    }

    public var isEnabled: Bool { state.withLock { $0.enabled } }
}
