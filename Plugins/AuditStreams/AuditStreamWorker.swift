import Core
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Delivers every stream from the database, in chain order, at least once: a replica leases a
/// due stream, sends the entries after its cursor in batches, and moves the cursor only after
/// the receiver took a batch. A failure backs off (capped, jittered) and frees the stream for
/// any replica; a hanging receiver holds only its own stream's task. Requests never wait for
/// any of this.
struct AuditStreamWorker: Service {
    let store: AuditStreamStore
    let senders: [String: any StreamSender]
    let logger: Logger
    let pollInterval: Duration
    let batchSize: Int
    /// This replica's name in leases.
    let owner = SecureRandom.id()
    static let lease: TimeInterval = 30
    static let maxBackoff: TimeInterval = 60
    private let running = Running()

    /// Streams this replica is delivering now (each at most once).
    final class Running: Sendable {
        private let ids = Mutex(Set<String>())
        func start(_ id: String) -> Bool { ids.withLock { $0.insert(id).inserted } }
        func finish(_ id: String) { ids.withLock { _ = $0.remove(id) } }
    }

    var clock: TimeSource { store.platform.clock }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            // Discarding: finished deliveries must not pile up in the group.
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    do {
                        for id in try await store.due(now: clock.now()) where running.start(id) {
                            group.addTask {
                                await deliver(streamId: id)
                                running.finish(id)
                            }
                        }
                    } catch {
                        logger.warning("audit stream pass failed", metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: pollInterval)
                }
                group.cancelAll()
            }
        }
        for sender in senders.values { await sender.shutdown() }
    }

    /// Sends batches while the stream has entries and this replica holds it.
    func deliver(streamId: String) async {
        var now = clock.now()
        guard var stream = try? await store.claim(id: streamId, owner: owner, now: now, until: now.addingTimeInterval(Self.lease)) else { return }
        let lagEntries = Gauge(label: "kms_audit_stream_lag_entries", dimensions: [("stream", stream.id)])
        let failures = Counter(label: "kms_audit_stream_failures_total", dimensions: [("stream", stream.id)])
        do {
            while !Task.isCancelled {
                let entries = try await store.platform.audit.entries(orgId: stream.orgId, after: stream.cursor, limit: batchSize)
                let head = try await store.platform.audit.headSequence(orgId: stream.orgId)
                lagEntries.record(Double(max(0, head - stream.cursor)))
                guard let last = entries.last, let sender = senders[stream.kind] else { break }
                try await sender.send(entries.map(AuditChainEvent.init), stream: stream)
                now = clock.now()
                guard try await store.delivered(id: stream.id, owner: owner, through: last.seq, now: now, leaseUntil: now.addingTimeInterval(Self.lease)) else {
                    return  // another replica took over (or an edit raced): it goes on from the stored cursor
                }
                lagEntries.record(Double(max(0, head - last.seq)))
                guard let updated = try await store.find(id: stream.id, orgId: stream.orgId) else { return }
                stream = updated
            }
            try? await store.release(id: stream.id, owner: owner)
        } catch {
            failures.increment()
            let attempts = stream.failures + 1
            let backoff = min(Self.maxBackoff, 0.5 * pow(2, Double(min(attempts, 10)))) * Double.random(in: 0.5...1.0)
            logger.warning("audit stream delivery failed", metadata: ["stream": "\(stream.id)", "kind": "\(stream.kind)", "error": "\(error)",
                                                                    "retryInSeconds": "\(Int(backoff.rounded(.up)))"])
            try? await store.failed(id: stream.id, owner: owner, error: "\(error)", nextAttempt: clock.now().addingTimeInterval(backoff))
        }
    }
}
