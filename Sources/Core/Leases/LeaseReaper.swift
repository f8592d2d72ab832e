import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Revokes expired leases and cleans up leases whose creation was interrupted. Due rows are
/// claimed with `FOR UPDATE SKIP LOCKED` (Postgres) and a claim deadline, so replicas never
/// work on the same lease at once; failures back off exponentially with jitter and, after a
/// few attempts, the lease is marked `revocation_failed` and retried at a slow pace.
public struct LeaseReaper: Service {
    let platform: Platform
    let providers: ProviderRegistry
    let interval: Duration
    let creatingGrace: TimeInterval
    let fastAttempts = 5
    private let backlog = Gauge(label: "kms_lease_reaper_backlog")
    private let expired = Counter(label: "kms_leases_expired_total")

    public init(platform: Platform, providers: ProviderRegistry, interval: Duration = .seconds(5), creatingGrace: TimeInterval = 300) {
        self.platform = platform
        self.providers = providers
        self.interval = interval
        self.creatingGrace = creatingGrace
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { _ = try await reapOnce() } catch {
                    platform.logger.warning("lease reaper pass failed", metadata: ["error": "\(LeaseEngine.reason(error))"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One pass: claims due leases and settles each. Returns how many were settled.
    @discardableResult
    public func reapOnce(limit: Int = 20) async throws -> Int {
        let now = platform.clock.now()
        let db = platform.database
        let claim = now.addingTimeInterval(120)
        let claimed = try await db.transaction { tx in
            try await tx.query("""
                UPDATE leases SET claimed_until = $1 WHERE id IN (
                    SELECT id FROM leases
                    WHERE ((status IN ('active', 'revocation_failed') AND expire_at <= $2) OR (status = 'creating' AND created_at <= $3))
                      AND next_attempt_at <= $2 AND claimed_until <= $2
                    ORDER BY expire_at LIMIT \(limit)\(tx.dialect.forUpdateSkipLocked))
                RETURNING *
                """, [DBValue(claim), DBValue(now), DBValue(now.addingTimeInterval(-creatingGrace))])
        }
        let due = try await db.first("SELECT COUNT(*) AS n FROM leases WHERE status IN ('active', 'revocation_failed') AND expire_at <= $1", [DBValue(now)])
        backlog.record(Double(try due?.int("n") ?? 0))
        var settled = 0
        for row in claimed {
            let lease = try LeaseRecord(row: row)
            let attempts = Int(try row.int("attempts"))
            do {
                // The lease's own config: it outlives edits and deletion of its secret and project.
                let secret = try await db.first("SELECT * FROM dynamic_secrets WHERE id = $1", [.text(lease.dynamicSecretId)]).map(DynamicSecretRecord.init(row:))
                guard let config = try lease.providerConfig(sealer: platform.sealer, fallback: secret) else {
                    throw APIError.notFound("the lease has no config snapshot and its dynamic secret no longer exists")
                }
                guard let provider = providers.dynamicSecretProvider(config.type) else { throw APIError.badRequest("provider \(config.type) is not installed") }
                try await provider.revoke(config: config, entityId: lease.externalEntityId)
                let status = lease.status == LeaseStatus.creating.rawValue ? "revoked" : "expired"
                let details = lease.status == LeaseStatus.creating.rawValue ? "creation was interrupted; cleaned up by the reaper" : nil
                // Only while this reaper still holds the claim; a settled lease drops its secrets.
                try await db.query("""
                    UPDATE leases SET status = $2, status_details = $3, claimed_until = 0, updated_at = $4, version = version + 1, inputs = NULL, sealed_inputs = NULL
                    WHERE id = $1 AND claimed_until = $5
                    """, [.text(lease.id), .text(status), DBValue(details), DBValue(platform.clock.now()), DBValue(claim)])
                expired.increment()
                try await platform.audit.record(AuditEvent(status == "expired" ? "lease-expired" : "lease-cleaned-up", orgId: lease.orgId, projectId: lease.projectId,
                                                           actor: .system, metadata: ["leaseId": lease.id, "externalEntityId": lease.externalEntityId]))
                settled += 1
            } catch {
                let next = attempts + 1
                let delay = next < fastAttempts ? min(300, pow(2, Double(next))) * Double.random(in: 0.5...1.0) : 600
                let status = next >= fastAttempts ? "revocation_failed" : lease.status
                try await db.query("""
                    UPDATE leases SET attempts = $2, next_attempt_at = $3, claimed_until = 0, status = $4, status_details = $5, updated_at = $6
                    WHERE id = $1 AND claimed_until = $7
                    """, [.text(lease.id), .int(Int64(next)), DBValue(platform.clock.now().addingTimeInterval(delay)), .text(status),
                          .text("revocation attempt \(next) failed: \(LeaseEngine.reason(error))"), DBValue(platform.clock.now()), DBValue(claim)])
                if next == fastAttempts {
                    try? await platform.audit.record(AuditEvent("lease-revocation-failed", orgId: lease.orgId, projectId: lease.projectId, actor: .system,
                                                                metadata: ["leaseId": lease.id, "reason": LeaseEngine.reason(error)]))
                }
            }
        }
        return settled
    }
}
