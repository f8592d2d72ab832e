import Foundation
import Logging
import Metrics

/// The generic lease engine: the lease row exists before the provider is called, failures
/// leave nothing behind, renewals never pass the max TTL, and expiry is enforced by
/// ``LeaseReaper`` even across restarts.
public struct LeaseEngine: Sendable {
    let platform: Platform
    let providers: ProviderRegistry
    private let created = Counter(label: "kms_leases_created_total")
    private let revoked = Counter(label: "kms_leases_revoked_total")
    private let failed = Counter(label: "kms_lease_failures_total")

    public init(platform: Platform, providers: ProviderRegistry) {
        self.platform = platform
        self.providers = providers
    }

    func provider(_ type: String) throws -> any DynamicSecretProvider {
        guard let provider = providers.dynamicSecretProvider(type) else { throw APIError.badRequest("no dynamic-secret provider of type \(type) is installed") }
        return provider
    }

    func lease(id: String) async throws -> LeaseRecord? {
        try await platform.database.first("SELECT * FROM leases WHERE id = $1", [.text(id)]).map(LeaseRecord.init(row:))
    }

    /// Creates a lease: returns the lease and the secret data (shown once, never stored). The
    /// row, with the config it is made with, exists before the provider is called; a failed
    /// create is cleaned up through the provider and the row is dropped only once that worked.
    public func create(secret: DynamicSecretRecord, ttl requested: Int?, actor: AuditActor, request: RequestInfo) async throws -> (LeaseRecord, [String: String]) {
        let ttl = requested ?? secret.defaultSeconds
        guard ttl > 0 else { throw APIError.badRequest("ttl must be positive") }
        guard ttl <= secret.maxSeconds else { throw APIError.badRequest("ttl \(ttl)s exceeds the dynamic secret's max TTL of \(secret.maxSeconds)s") }
        let provider = try provider(secret.type)
        let config = try secret.providerConfig(sealer: platform.sealer)
        try await provider.authorize(config: config)
        let id = SecureRandom.id()
        let entityId = try provider.plannedEntityId(config: config, leaseId: id)
        let now = platform.clock.now()
        try await platform.database.query("""
            INSERT INTO leases (id, org_id, project_id, dynamic_secret_id, external_entity_id, status, version, created_at, updated_at, expire_at, max_expire_at,
                provider_type, inputs, sealed_inputs)
            VALUES ($1, $2, $3, $4, $5, 'creating', 1, $6, $6, $7, $8, $9, $10, $11)
            """, [.text(id), .text(secret.orgId), .text(secret.projectId), .text(secret.id), .text(entityId), DBValue(now),
                  DBValue(now.addingTimeInterval(TimeInterval(ttl))), DBValue(now.addingTimeInterval(TimeInterval(secret.maxSeconds))),
                  .text(secret.type), .text(secret.inputs.text), .text(secret.sealedInputs)])
        let entity: DynamicSecretEntity
        do {
            entity = try await provider.create(config: config, entityId: entityId, leaseId: id, ttl: ttl)
        } catch {
            failed.increment()
            let cause = (error as? NothingCreated)?.underlying ?? error
            if error is NothingCreated {
                _ = try? await platform.database.query("DELETE FROM leases WHERE id = $1", [.text(id)])
            } else {
                await settleFailedCreate(leaseId: id, entity: LeasedEntity(id: entityId), config: config, provider: provider, error: error)
            }
            try? await platform.audit.record(AuditEvent("lease-create-failed", orgId: secret.orgId, projectId: secret.projectId, actor: actor,
                                                        ipAddress: request.clientIP, userAgent: request.userAgent,
                                                        metadata: ["dynamicSecretId": secret.id, "reason": Self.reason(cause)]))
            throw cause
        }
        var expiry = now.addingTimeInterval(TimeInterval(ttl))
        if let limit = entity.expiresAt, limit < expiry { expiry = limit }
        let maxExpiry = entity.expiresAt.map { min($0, now.addingTimeInterval(TimeInterval(secret.maxSeconds))) } ?? now.addingTimeInterval(TimeInterval(secret.maxSeconds))
        // Only a lease still `creating` becomes active: if the reaper took it for an interrupted
        // create meanwhile, what was just made must not outlive the row.
        let made = LeasedEntity(id: entity.externalEntityId, state: entity.revocationState)
        // The secret's row is held (Postgres) so a delete of it either waits for this activation
        // (and then makes the lease due) or has committed, and the lease is not activated.
        let activated = try await platform.database.query("""
            UPDATE leases SET status = 'active', external_entity_id = $2, expire_at = $3, max_expire_at = $4, updated_at = $5, sealed_revocation_state = $6
            WHERE id = $1 AND status = 'creating' AND claimed_until <= $5
              AND EXISTS (SELECT 1 FROM dynamic_secrets d WHERE d.id = leases.dynamic_secret_id\(platform.database.dialect.forShare))
            RETURNING id
            """, [.text(id), .text(entity.externalEntityId), DBValue(expiry), DBValue(maxExpiry), DBValue(platform.clock.now()),
                  // State that cannot be sealed only costs the revocation a search: never the create.
                  DBValue(try? LeaseRecord.sealState(entity.revocationState, leaseId: id, sealer: platform.sealer))])
        guard !activated.isEmpty else {
            failed.increment()
            // The reaper took the row, or the secret (or its project) was deleted meanwhile: undo
            // what was made rather than leave credentials no one can revoke through the API.
            let claimed = try await platform.database.first("SELECT id FROM leases WHERE id = $1 AND claimed_until > 0", [.text(id)]) != nil
            await settleFailedCreate(leaseId: id, entity: made, config: config, provider: provider,
                                     error: APIError.conflict("the lease was taken for cleanup while it was being created"), ownsRow: !claimed)
            try? await platform.audit.record(AuditEvent("lease-create-failed", orgId: secret.orgId, projectId: secret.projectId, actor: actor,
                                                        ipAddress: request.clientIP, userAgent: request.userAgent,
                                                        metadata: ["dynamicSecretId": secret.id, "reason": "undone: taken for cleanup or deleted while being created"]))
            throw APIError.conflict("the lease was cleaned up while it was being created (its secret was deleted, or the provider took too long); try again")
        }
        created.increment()
        try await platform.audit.record(AuditEvent("lease-created", orgId: secret.orgId, projectId: secret.projectId, actor: actor, ipAddress: request.clientIP,
                                                   userAgent: request.userAgent, metadata: ["leaseId": id, "dynamicSecretId": secret.id,
                                                                                            "externalEntityId": entity.externalEntityId, "expireAt": ISO8601Format.string(expiry)]))
        guard let lease = try await lease(id: id) else { throw StorageError.other("lease vanished") }
        return (lease, entity.data)
    }

    /// After a failed create: removes whatever may exist in the cloud (revoke is idempotent)
    /// and drops the row; if that removal fails, the row is handed to the reaper as due, so
    /// nothing is orphaned where no one looks.
    func settleFailedCreate(leaseId: String, entity: LeasedEntity, config: DynamicSecretConfig, provider: any DynamicSecretProvider, error: any Error,
                            ownsRow: Bool = true) async {
        do {
            try await provider.revoke(config: config, entity: entity)
            if ownsRow { _ = try await platform.database.query("DELETE FROM leases WHERE id = $1", [.text(leaseId)]) }
        } catch let cleanup {
            let now = platform.clock.now()
            _ = try? await platform.database.query("""
                UPDATE leases SET status = 'revocation_failed', external_entity_id = $2, expire_at = $3, claimed_until = 0, status_details = $4, updated_at = $3,
                    sealed_revocation_state = $5
                WHERE id = $1
                """, [.text(leaseId), .text(entity.id), DBValue(now),
                      .text("creation failed (\(Self.reason(error))) and its cleanup failed (\(Self.reason(cleanup))); the reaper retries"),
                      DBValue(try? LeaseRecord.sealState(entity.state, leaseId: leaseId, sealer: platform.sealer))])
        }
    }

    /// Extends a lease by `ttl` (default: the secret's default TTL) from its current expiry.
    public func renew(lease: LeaseRecord, secret: DynamicSecretRecord, ttl requested: Int?, actor: AuditActor, request: RequestInfo) async throws -> LeaseRecord {
        guard lease.status == LeaseStatus.active.rawValue else { throw APIError.badRequest("only an active lease can be renewed (this one is \(lease.status))") }
        let now = platform.clock.now()
        guard lease.expireAt > now else { throw APIError.badRequest("the lease has expired") }
        let provider = try provider(secret.type)
        guard let own = try lease.providerConfig(sealer: platform.sealer, fallback: secret), provider.canRenew(config: own) else {
            throw APIError.badRequest("these credentials cannot be extended past the expiry AWS gave them; create a new lease")
        }
        let ttl = requested ?? secret.defaultSeconds
        guard ttl > 0 else { throw APIError.badRequest("ttl must be positive") }
        let newExpiry = lease.expireAt.addingTimeInterval(TimeInterval(ttl))
        guard newExpiry <= lease.maxExpireAt.addingTimeInterval(0.5) else {
            throw APIError.badRequest("renewing by \(ttl)s would pass the lease's max TTL (\(ISO8601Format.string(lease.maxExpireAt)))")
        }
        // Not once it has expired or while a reaper holds it for revocation.
        let renewed = try await platform.database.query("""
            UPDATE leases SET expire_at = $2, version = version + 1, updated_at = $3
            WHERE id = $1 AND status = 'active' AND expire_at > $3 AND claimed_until <= $3 RETURNING id
            """, [.text(lease.id), DBValue(newExpiry), DBValue(now)])
        guard !renewed.isEmpty else { throw APIError.conflict("the lease is expiring or being revoked and can no longer be renewed") }
        try await platform.audit.record(AuditEvent("lease-renewed", orgId: lease.orgId, projectId: lease.projectId, actor: actor, ipAddress: request.clientIP,
                                                   userAgent: request.userAgent, metadata: ["leaseId": lease.id, "expireAt": ISO8601Format.string(newExpiry)]))
        guard let renewed = try await self.lease(id: lease.id) else { throw APIError.notFound("lease not found") }
        return renewed
    }

    /// Revokes a lease now. With `force`, a provider failure is recorded and the lease dropped anyway.
    public func revoke(lease: LeaseRecord, secret: DynamicSecretRecord, force: Bool, actor: AuditActor, request: RequestInfo) async throws -> LeaseRecord {
        guard lease.status != LeaseStatus.revoked.rawValue, lease.status != LeaseStatus.expired.rawValue else {
            throw APIError.badRequest("the lease is already \(lease.status)")
        }
        // Its create is still running (it undoes what it made if the row is gone or changed), or
        // was interrupted (the reaper cleans it up): revoking now could miss what is being made.
        guard lease.status != LeaseStatus.creating.rawValue else {
            throw APIError.conflict("the lease is still being created; revoke it once it is active (an interrupted creation is cleaned up by the reaper)")
        }
        var details: String?
        do {
            // The config the lease was made with, not the secret's current one.
            guard let config = try lease.providerConfig(sealer: platform.sealer, fallback: secret) else { throw APIError.notFound("the lease's config is gone") }
            try await provider(config.type).revoke(config: config, entity: lease.entity(sealer: platform.sealer, logger: platform.logger))
        } catch {
            guard force else {
                failed.increment()
                try? await platform.audit.record(AuditEvent("lease-revoke-failed", orgId: lease.orgId, projectId: lease.projectId, actor: actor,
                                                            ipAddress: request.clientIP, userAgent: request.userAgent,
                                                            metadata: ["leaseId": lease.id, "reason": Self.reason(error)]))
                throw error
            }
            details = "forced revocation; provider error: \(Self.reason(error))"
        }
        // A settled lease no longer needs its connection secrets. Only the state this revocation
        // started from is settled: a reaper that expired the lease meanwhile has the last word.
        let settled = try await platform.database.query("""
            UPDATE leases SET status = 'revoked', status_details = $2, version = version + 1, updated_at = $3, inputs = NULL, sealed_inputs = NULL,
                sealed_revocation_state = NULL
            WHERE id = $1 AND status = $4
            RETURNING id
            """, [.text(lease.id), DBValue(details), DBValue(platform.clock.now()), .text(lease.status)])
        guard !settled.isEmpty else {
            guard let now = try await self.lease(id: lease.id) else { throw APIError.notFound("lease not found") }
            guard now.status == LeaseStatus.expired.rawValue || now.status == LeaseStatus.revoked.rawValue else {
                throw APIError.conflict("the lease changed while it was being revoked (now \(now.status)); try again")
            }
            return now
        }
        revoked.increment()
        try await platform.audit.record(AuditEvent("lease-revoked", orgId: lease.orgId, projectId: lease.projectId, actor: actor, ipAddress: request.clientIP,
                                                   userAgent: request.userAgent, metadata: ["leaseId": lease.id, "forced": String(details != nil)]))
        guard let updated = try await self.lease(id: lease.id) else { throw APIError.notFound("lease not found") }
        return updated
    }

    static func reason(_ error: any Error) -> String {
        if let e = error as? APIError { return e.message }
        return String(describing: error).prefix(300).description
    }
}
