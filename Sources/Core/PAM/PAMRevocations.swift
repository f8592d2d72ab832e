import Foundation
import Logging

/// Ends PAM sessions for real. The cloud cannot revoke an issued session, so a revocation is a
/// row (target, person, time) and the provider keeps a deny on the target that matches every
/// credential issued to that person before that time (AWS: `kms-pam-revocations`). The rows
/// are the truth; the provider's deny is rendered from all rows of a target, by one writer at a
/// time per target (a lock row shared by replicas), so concurrent revocations never overwrite
/// each other. A row is dropped once no session it covers can still be alive.
public struct PAMRevocations: Sendable {
    let platform: Platform
    let providers: ProviderRegistry
    /// How long a revocation must hold: the longest session a provider issues, plus clock skew.
    let retention: TimeInterval
    static let lockTime: TimeInterval = 60

    public init(platform: Platform, providers: ProviderRegistry, retention: TimeInterval = 3600 + 300) {
        self.platform = platform
        self.providers = providers
        self.retention = retention
    }

    /// Revocations are dated this much later than now: sessions AWS issued just before, on a
    /// clock ahead of ours, are caught too (the person's own new sessions in that window as well).
    static let skewMargin: TimeInterval = 30

    /// Records a revocation of `sourceIdentity` on `target` (the truth the deny is rendered
    /// from; a failed write is retried from it by the cleanup job).
    public func record(sourceIdentity: String, target: String, resource: PAMResource) async throws {
        let now = platform.clock.now()
        try await platform.database.query(SQL("""
            INSERT INTO pam_revocations (target, source_identity, revoked_at, remove_after)
            VALUES (\(target), \(sourceIdentity), \(now.addingTimeInterval(Self.skewMargin)), \(now.addingTimeInterval(retention + Self.skewMargin)))
            ON CONFLICT (target, source_identity) DO UPDATE SET revoked_at = excluded.revoked_at, remove_after = excluded.remove_after
            """))
        // Any project's resource reaching the target can write it; the latest one is used.
        try await platform.database.query(SQL("""
            INSERT INTO pam_revocation_targets (target, org_id, project_id, resource_id, resource_type, generation, updated_at)
            VALUES (\(target), \(resource.orgId), \(resource.projectId), \(resource.id), \(resource.resourceType), 1, \(now))
            ON CONFLICT (target) DO UPDATE SET dirty = 1, generation = pam_revocation_targets.generation + 1, org_id = excluded.org_id,
                project_id = excluded.project_id, resource_id = excluded.resource_id, resource_type = excluded.resource_type, updated_at = excluded.updated_at
            """))
    }

    /// Records a revocation and rewrites the target's deny.
    public func revoke(sourceIdentity: String, target: String, resource: PAMResource) async throws {
        try await record(sourceIdentity: sourceIdentity, target: target, resource: resource)
        try await apply(target: target)
    }

    /// Renders every revocation in force on `target` through its provider, holding the
    /// target's lock (each call its own holder). Throws when the provider failed; the target
    /// stays dirty and the cleanup job retries it.
    public func apply(target: String) async throws {
        let holder = SecureRandom.id()
        try await lock(target, holder: holder)
        do { try await applyLocked(target: target, holder: holder) } catch {
            await unlock(target, holder: holder)
            throw error
        }
        await unlock(target, holder: holder)
    }

    private func unlock(_ target: String, holder: String) async {
        _ = try? await platform.database.query(SQL("UPDATE pam_revocation_targets SET lock_until = 0 WHERE target = \(target) AND lock_owner = \(holder)"))
    }

    private func applyLocked(target: String, holder: String) async throws {
        guard let row = try await platform.database.first(SQL("SELECT * FROM pam_revocation_targets WHERE target = \(target)")) else { return }
        // What this write covers: revocations recorded up to this generation.
        let generation = try row.int("generation")
        let now = platform.clock.now()
        let revocations = try await platform.database.query(SQL("""
            SELECT * FROM pam_revocations WHERE target = \(target) AND remove_after > \(now) ORDER BY source_identity
            """)).map { PAMRevocation(sourceIdentity: try $0.string("source_identity"), revokedAt: try $0.date("revoked_at")) }
        guard let provider = providers.pamProvider(try row.string("resource_type")),
              let resource = try await PAMStore(platform: platform).resource(id: try row.string("resource_id"), projectId: try row.string("project_id")) else {
            try await platform.database.query(SQL("UPDATE pam_revocation_targets SET dirty = 1, last_error = 'the resource is gone' WHERE target = \(target)"))
            throw APIError.badGateway("the session's resource no longer exists, so its revocation cannot be written")
        }
        do {
            try await provider.applyRevocations(revocations, target: target, resource: resource)
        } catch {
            let message = (error as? APIError)?.message ?? "\(error)"
            _ = try? await platform.database.query(SQL("UPDATE pam_revocation_targets SET dirty = 1, last_error = \(String(message.prefix(1000))) WHERE target = \(target)"))
            throw error
        }
        // Clean only if nothing was recorded meanwhile and the lock is still ours; otherwise
        // the newer revocation's own write (or the cleanup job) follows.
        try await platform.database.query(SQL("""
            UPDATE pam_revocation_targets SET dirty = 0, last_error = NULL, updated_at = \(now)
            WHERE target = \(target) AND generation = \(generation) AND lock_owner = \(holder)
            """))
    }

    /// Takes the target's lock, waiting (bounded) for another writer to finish.
    private func lock(_ target: String, holder: String) async throws {
        let deadline = platform.clock.now().addingTimeInterval(Self.lockTime)
        while true {
            let now = platform.clock.now()
            if try await platform.database.first(SQL("""
                UPDATE pam_revocation_targets SET lock_owner = \(holder), lock_until = \(now.addingTimeInterval(Self.lockTime))
                WHERE target = \(target) AND lock_until <= \(now) RETURNING target
                """)) != nil { return }
            guard now < deadline else { throw APIError.unavailable("another revocation of this target is still being written; retry shortly") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Drops revocations no session can outlive any more and rewrites their targets (an empty
    /// set removes the deny), and retries targets whose last write failed.
    @discardableResult
    public func cleanup() async throws -> Int {
        let now = platform.clock.now()
        let expired = try await platform.database.query(SQL("DELETE FROM pam_revocations WHERE remove_after <= \(now) RETURNING target"))
        let targets = Set(try expired.map { try $0.string("target") })
        if !targets.isEmpty {
            for target in targets {
                try await platform.database.query(SQL("UPDATE pam_revocation_targets SET dirty = 1 WHERE target = \(target)"))
            }
        }
        let dirty = try await platform.database.query(SQL("SELECT * FROM pam_revocation_targets WHERE dirty = 1"))
        for row in dirty {
            let target = try row.string("target")
            do {
                try await apply(target: target)
                if targets.contains(target) {
                    try await platform.audit.record(AuditEvent("pam-revocations-cleaned", orgId: try row.string("org_id"), projectId: try row.string("project_id"),
                                                               actor: .system, metadata: ["target": target]))
                }
            } catch {
                platform.logger.warning("PAM revocation could not be written", metadata: ["target": "\(target)", "error": "\(error)"])
            }
        }
        return expired.count
    }
}
