import Foundation
import Synchronization

/// Bounds the audit entries that unauthenticated failures (bad logins) can write, so an
/// anonymous caller cannot grow an organization's log without limit, nor use up the room that
/// other sources' failures need. Per window, each (organization, source address) may write
/// `perSource` entries and each organization `perWindow` in all; the rest are counted, and the
/// count is carried on the organization's next written entry (`suppressedFailures`) and in
/// `kms_login_failures_total`.
public final class FailureAuditBudget: Sendable {
    private struct Bucket { var windowStart: Date; var written: Int; var suppressed: Int }
    private struct State { var orgs: [String: Bucket] = [:]; var sources: [String: Bucket] = [:] }
    private let state = Mutex(State())
    let perWindow: Int
    let perSource: Int
    let window: TimeInterval

    public init(perWindow: Int = 20, perSource: Int = 5, window: TimeInterval = 60) {
        self.perWindow = perWindow
        self.perSource = perSource
        self.window = window
    }

    /// Whether a failure entry for `orgId` from `source` may be written now, and how many of the
    /// organization's were suppressed since its last one written.
    public func admit(orgId: String, source: String?, now: Date) -> (admitted: Bool, suppressedBefore: Int) {
        state.withLock { s in
            if s.orgs.count + s.sources.count > 20_000 {
                s.orgs = s.orgs.filter { now.timeIntervalSince($0.value.windowStart) < window }
                s.sources = s.sources.filter { now.timeIntervalSince($0.value.windowStart) < window }
            }
            func fresh(_ b: Bucket?) -> Bucket {
                guard var b else { return Bucket(windowStart: now, written: 0, suppressed: 0) }
                if now.timeIntervalSince(b.windowStart) >= window { b.windowStart = now; b.written = 0 }
                return b
            }
            let sourceKey = orgId + "|" + (source ?? "-")
            var org = fresh(s.orgs[orgId]), from = fresh(s.sources[sourceKey])
            defer { s.orgs[orgId] = org; s.sources[sourceKey] = from }
            guard org.written < perWindow, from.written < perSource else {
                org.suppressed += 1
                return (false, 0)
            }
            let carried = org.suppressed
            org.written += 1
            org.suppressed = 0
            from.written += 1
            return (true, carried)
        }
    }
}

extension AuditLog {
    /// Records an unauthenticated failure within the failure budget. Returns whether an entry
    /// was written.
    @discardableResult
    public func recordFailure(_ event: AuditEvent) async throws -> Bool {
        let (admitted, suppressed) = failureBudget.admit(orgId: event.orgId, source: event.ipAddress, now: clock.now())
        guard admitted else { return false }
        var metadata = event.metadata
        if suppressed > 0 { metadata["suppressedFailures"] = String(suppressed) }
        try await record(AuditEvent(event.eventType, orgId: event.orgId, projectId: event.projectId, actor: event.actor,
                                    ipAddress: event.ipAddress, userAgent: event.userAgent, metadata: metadata))
        return true
    }
}
