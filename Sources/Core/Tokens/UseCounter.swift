import Foundation
import Synchronization

/// Counts the uses of use-limited tokens. Uses of one token that arrive while a count for it is
/// in flight wait and are counted together by the next single statement, which grants at most
/// what is left under the limit; the statement locks the row, so the limit stays exact across
/// replicas. Under load this turns one UPDATE per request into one per batch.
final class UseCounter: Sendable {
    private struct Pending {
        var inFlight = false
        var waiting: [(continuation: CheckedContinuation<Int?, any Error>, now: Date)] = []
    }

    private let database: any Database
    private let state = Mutex<[String: Pending]>([:])

    init(database: any Database) { self.database = database }

    /// Counts one use of token `id` (live at `now`); the use's number, or nil when the token
    /// is used up, revoked or expired.
    func count(id: String, now: Date) async throws -> Int? {
        try await withCheckedThrowingContinuation { continuation in
            let lead = state.withLock { all -> Bool in
                all[id, default: Pending()].waiting.append((continuation, now))
                if all[id]!.inFlight { return false }
                all[id]!.inFlight = true
                return true
            }
            if lead { Task { await self.drain(id: id) } }
        }
    }

    /// Counts batches for `id` until nobody waits.
    private func drain(id: String) async {
        while true {
            let batch = state.withLock { all -> [(continuation: CheckedContinuation<Int?, any Error>, now: Date)] in
                let waiting = all[id]?.waiting ?? []
                if waiting.isEmpty { all[id] = nil } else { all[id]!.waiting = [] }
                return waiting
            }
            if batch.isEmpty { return }
            do {
                // The batch's latest time: a token that expired while uses waited grants none.
                let now = batch.map(\.now).max() ?? Date()
                let (before, granted) = try await grant(id: id, uses: batch.count, now: now)
                for (n, waiter) in batch.enumerated() { waiter.continuation.resume(returning: n < granted ? before + n + 1 : nil) }
            } catch {
                for waiter in batch { waiter.continuation.resume(throwing: error) }
            }
        }
    }

    /// Adds up to `uses` to the token's count, never past its limit, in one locked statement.
    /// Returns the count before and how many uses were granted.
    private func grant(id: String, uses: Int, now: Date) async throws -> (Int, Int) {
        let live = "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2) AND num_uses < num_uses_limit"
        switch database.dialect {
        case .postgres:
            // The CTE locks the row; a concurrent replica's statement waits and re-reads the count.
            guard let row = try await database.first("""
                WITH prior AS (SELECT num_uses FROM access_tokens WHERE id = $1 AND \(live) FOR UPDATE)
                UPDATE access_tokens SET num_uses = LEAST(access_tokens.num_uses + $3, access_tokens.num_uses_limit)
                FROM prior WHERE access_tokens.id = $1
                RETURNING prior.num_uses AS before, access_tokens.num_uses AS after
                """, [.text(id), DBValue(now), .int(Int64(uses))]) else { return (0, 0) }
            let before = Int(try row.int("before"))
            return (before, Int(try row.int("after")) - before)
        case .sqlite:
            // One writer: the read and the write in one transaction cannot interleave with another.
            return try await database.transaction { db in
                guard let row = try await db.first("SELECT num_uses, num_uses_limit FROM access_tokens WHERE id = $1 AND \(live)",
                                                   [.text(id), DBValue(now)]) else { return (0, 0) }
                let before = Int(try row.int("num_uses"))
                let granted = min(uses, Int(try row.int("num_uses_limit")) - before)
                try await db.query("UPDATE access_tokens SET num_uses = num_uses + $2 WHERE id = $1", [.text(id), .int(Int64(granted))])
                return (before, granted)
            }
        }
    }
}
