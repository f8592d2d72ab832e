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
    /// Leases claimed per pass, and settled at once (each is a few cloud calls: latency-bound).
    let batch: Int
    let concurrency: Int
    private let backlog = Gauge(label: "kms_lease_reaper_backlog")
    private let expired = Counter(label: "kms_leases_expired_total")

    public init(platform: Platform, providers: ProviderRegistry, interval: Duration = .seconds(5), creatingGrace: TimeInterval = 300,
                batch: Int = 64, concurrency: Int = 16) {
        self.platform = platform
        self.batch = batch
        self.concurrency = concurrency
        self.providers = providers
        self.interval = interval
        self.creatingGrace = creatingGrace
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                var full = false
                do {
                    let outcome = try await pass()
                    // Back to back only while leases are being settled: a backlog that keeps
                    // failing (a cloud outage) waits for the interval like an empty one.
                    full = outcome.claimed == batch && outcome.settled > 0
                } catch {
                    platform.logger.warning("lease reaper pass failed", metadata: ["error": "\(LeaseEngine.reason(error))"])
                }
                // While a backlog remains (the pass was full), the next pass starts at once.
                if !full { try? await Task.sleep(for: interval) }
            }
        }
    }

    /// One pass: claims due leases and settles each. Returns how many were settled.
    @discardableResult
    public func reapOnce(limit: Int? = nil) async throws -> Int { try await pass(limit: limit).settled }

    /// One pass: claims up to `limit` due leases (expired live ones first, then interrupted
    /// creations) and settles them, `concurrency` at a time.
    func pass(limit: Int? = nil) async throws -> (claimed: Int, settled: Int) {
        let limit = limit ?? batch
        let now = platform.clock.now()
        let db = platform.database
        let claim = now.addingTimeInterval(120)
        // Two claims, each served by its partial index, so finding due leases costs O(due).
        let claimed = try await db.transaction { tx in
            var rows = try await tx.query("""
                UPDATE leases SET claimed_until = $1 WHERE id IN (
                    SELECT id FROM leases WHERE status IN ('active', 'revocation_failed') AND expire_at <= $2
                      AND next_attempt_at <= $2 AND claimed_until <= $2
                    ORDER BY expire_at LIMIT \(limit)\(tx.dialect.forUpdateSkipLocked))
                RETURNING *
                """, [DBValue(claim), DBValue(now)])
            if rows.count < limit {
                rows += try await tx.query("""
                    UPDATE leases SET claimed_until = $1 WHERE id IN (
                        SELECT id FROM leases WHERE status = 'creating' AND created_at <= $3 AND next_attempt_at <= $2 AND claimed_until <= $2
                        ORDER BY created_at LIMIT \(limit - rows.count)\(tx.dialect.forUpdateSkipLocked))
                    RETURNING *
                    """, [DBValue(claim), DBValue(now), DBValue(now.addingTimeInterval(-creatingGrace))])
            }
            return rows
        }
        if claimed.count < limit {
            // The backlog gauge, read when the backlog is small (a full pass means more remain).
            let due = try await db.first("SELECT COUNT(*) AS n FROM leases WHERE status IN ('active', 'revocation_failed') AND expire_at <= $1", [DBValue(now)])
            backlog.record(Double(try due?.int("n") ?? 0))
        }
        // The cloud calls run `concurrency` at a time; the audit entries of the pass are
        // appended together (one commit, one hold of the chain's lock).
        // Every settle finishes (none is cancelled by another's failure), and the audit entries
        // of every settled lease are appended even when another settle failed.
        let outcomes = await withTaskGroup(of: Result<(Bool, AuditEvent?), any Error>.self) { group in
            var outcomes: [Result<(Bool, AuditEvent?), any Error>] = [], index = 0
            func start(_ row: DBRow) {
                group.addTask { do { return .success(try await settle(row, claim: claim)) } catch { return .failure(error) } }
            }
            while index < min(concurrency, claimed.count) {
                start(claimed[index])
                index += 1
            }
            while let outcome = await group.next() {
                outcomes.append(outcome)
                if index < claimed.count {
                    start(claimed[index])
                    index += 1
                }
            }
            return outcomes
        }
        let events = outcomes.compactMap { try? $0.get().1 }
        do {
            try await platform.audit.record(events)
        } catch {
            // One by one, so a single entry that cannot be written does not take the others with it.
            for event in events { try? await platform.audit.record(event) }
        }
        if let failure = outcomes.first(where: { if case .failure = $0 { true } else { false } }), case .failure(let error) = failure { throw error }
        let settled = outcomes.filter { (try? $0.get().0) == true }.count
        return (claimed.count, settled)
    }

    /// Revokes one claimed lease, or records the failed attempt. True when it was settled, with
    /// the audit entry to append.
    private func settle(_ row: DBRow, claim: Date) async throws -> (Bool, AuditEvent?) {
        let db = platform.database
        let lease = try LeaseRecord(row: row)
        let attempts = Int(try row.int("attempts"))
        do {
            // The lease's own config: it outlives edits and deletion of its secret and project.
            // (The secret is read only for leases made before configs were kept with them.)
            var secret: DynamicSecretRecord?
            if lease.snapshot == nil {
                secret = try await db.first("SELECT * FROM dynamic_secrets WHERE id = $1", [.text(lease.dynamicSecretId)]).map(DynamicSecretRecord.init(row:))
            }
            guard let config = try lease.providerConfig(sealer: platform.sealer, fallback: secret) else {
                throw APIError.notFound("the lease has no config snapshot and its dynamic secret no longer exists")
            }
            guard let provider = providers.dynamicSecretProvider(config.type) else { throw APIError.badRequest("provider \(config.type) is not installed") }
            try await provider.revoke(config: config, entity: lease.entity(sealer: platform.sealer, logger: platform.logger))
            let status = lease.status == LeaseStatus.creating.rawValue ? "revoked" : "expired"
            let details = lease.status == LeaseStatus.creating.rawValue ? "creation was interrupted; cleaned up by the reaper" : nil
            // Only while this reaper still holds the claim; a settled lease drops its secrets.
            let settled = try await db.query("""
                UPDATE leases SET status = $2, status_details = $3, claimed_until = 0, updated_at = $4, version = version + 1, inputs = NULL, sealed_inputs = NULL,
                    sealed_revocation_state = NULL
                WHERE id = $1 AND claimed_until = $5
                RETURNING id
                """, [.text(lease.id), .text(status), DBValue(details), DBValue(platform.clock.now()), DBValue(claim)])
            // The claim was lost meanwhile (its create settled the row itself): not ours to record.
            guard !settled.isEmpty else { return (false, nil) }
            expired.increment()
            return (true, AuditEvent(status == "expired" ? "lease-expired" : "lease-cleaned-up", orgId: lease.orgId, projectId: lease.projectId,
                                     actor: .system, metadata: ["leaseId": lease.id, "externalEntityId": lease.externalEntityId]))
        } catch {
            let next = attempts + 1
            let delay = next < fastAttempts ? min(300, pow(2, Double(next))) * Double.random(in: 0.5...1.0) : 600
            let status = next >= fastAttempts ? "revocation_failed" : lease.status
            try await db.query("""
                UPDATE leases SET attempts = $2, next_attempt_at = $3, claimed_until = 0, status = $4, status_details = $5, updated_at = $6
                WHERE id = $1 AND claimed_until = $7
                """, [.text(lease.id), .int(Int64(next)), DBValue(platform.clock.now().addingTimeInterval(delay)), .text(status),
                      .text("revocation attempt \(next) failed: \(LeaseEngine.reason(error))"), DBValue(platform.clock.now()), DBValue(claim)])
            guard next == fastAttempts else { return (false, nil) }
            return (false, AuditEvent("lease-revocation-failed", orgId: lease.orgId, projectId: lease.projectId, actor: .system,
                                      metadata: ["leaseId": lease.id, "reason": LeaseEngine.reason(error)]))
        }
    }
}
