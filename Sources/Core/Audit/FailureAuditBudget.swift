import Foundation
import Synchronization

/// Bounds the audit entries that unauthenticated failures (bad logins) can write, so an
/// anonymous caller cannot grow an organization's log without limit. Each organization gets
/// `perWindow` failure entries per window; the rest are counted, and the count is carried on the
/// next entry that is written (`suppressedFailures`), so nothing is silently lost.
public final class FailureAuditBudget: Sendable {
    private struct Bucket { var windowStart: Date; var written: Int; var suppressed: Int }
    private let state = Mutex<[String: Bucket]>([:])
    let perWindow: Int
    let window: TimeInterval

    public init(perWindow: Int = 20, window: TimeInterval = 60) {
        self.perWindow = perWindow
        self.window = window
    }

    /// Whether a failure entry for `orgId` may be written now, and how many were suppressed
    /// since the last one written.
    public func admit(orgId: String, now: Date) -> (admitted: Bool, suppressedBefore: Int) {
        state.withLock { buckets in
            if buckets.count > 10_000 { buckets = buckets.filter { now.timeIntervalSince($0.value.windowStart) < window } }
            var bucket = buckets[orgId] ?? Bucket(windowStart: now, written: 0, suppressed: 0)
            if now.timeIntervalSince(bucket.windowStart) >= window {
                bucket.windowStart = now
                bucket.written = 0
            }
            guard bucket.written < perWindow else {
                bucket.suppressed += 1
                buckets[orgId] = bucket
                return (false, 0)
            }
            let carried = bucket.suppressed
            bucket.written += 1
            bucket.suppressed = 0
            buckets[orgId] = bucket
            return (true, carried)
        }
    }
}

extension AuditLog {
    /// Records an unauthenticated failure within the organization's failure budget. Returns
    /// whether an entry was written.
    @discardableResult
    public func recordFailure(_ event: AuditEvent) async throws -> Bool {
        let (admitted, suppressed) = failureBudget.admit(orgId: event.orgId, now: clock.now())
        guard admitted else { return false }
        var metadata = event.metadata
        if suppressed > 0 { metadata["suppressedFailures"] = String(suppressed) }
        try await record(AuditEvent(event.eventType, orgId: event.orgId, projectId: event.projectId, actor: event.actor,
                                    ipAddress: event.ipAddress, userAgent: event.userAgent, metadata: metadata))
        return true
    }
}
