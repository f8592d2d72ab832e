@testable import Core
import Foundation
import Synchronization
import Testing
@testable import Host

/// A provider double for engine tests: counts revocations and fails on demand. (The real
/// aws-iam provider is tested end to end against moto.)
final class RecordingProvider: DynamicSecretProvider, Sendable {
    let type = "test"
    let revokes = Mutex<[String]>([])
    /// The revocation state each revoked entity was handed back.
    let revokedStates = Mutex<[String: [String: String]]>([:])
    let failRevokes = Mutex(false)
    let failCreate = Mutex(false)
    /// Entities whose revocation fails; and how many revocations ran at once, at most.
    let failing = Mutex<Set<String>>([])
    let running = Mutex((now: 0, peak: 0))

    func validate(inputs: JSONValue, projectId: String) async throws -> (public: JSONValue, secret: JSONValue) { (inputs, .object(["key": .string("s3cret-input")])) }
    func plannedEntityId(config: DynamicSecretConfig, leaseId: String) throws -> String { "entity-\(leaseId.prefix(8))" }
    func canRenew(config: DynamicSecretConfig) -> Bool { true }
    func create(config: DynamicSecretConfig, entityId: String, leaseId: String, ttl: Int) async throws -> DynamicSecretEntity {
        if failCreate.withLock({ $0 }) { throw APIError.badGateway("create failed") }
        return DynamicSecretEntity(externalEntityId: entityId, data: ["PASSWORD": "p"], revocationState: ["handle": "handle-\(entityId)"])
    }
    func revoke(config: DynamicSecretConfig, entity: LeasedEntity) async throws {
        let entityId = entity.id
        running.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
        defer { running.withLock { $0.now -= 1 } }
        try await Task.sleep(for: .milliseconds(20))
        if failRevokes.withLock({ $0 }) || failing.withLock({ $0.contains(entityId) }) { throw APIError.badGateway("cloud is down") }
        revokes.withLock { $0.append(entityId) }
        revokedStates.withLock { $0[entityId] = entity.state }
    }
}

@Suite("Lease engine and reaper", .serialized)
struct LeaseEngineTests {
    /// Creates a project, a `test` dynamic secret and `count` leases of `ttl` seconds.
    static func setUp(_ h: Harness, provider: RecordingProvider, count: Int, ttl: Int = 60) async throws -> [String] {
        let registry = ProviderRegistry()
        registry.register(dynamicSecret: provider)
        let admin = try await h.test { try await $0.bootstrap() }
        let project = try await h.platform.projects.create(orgId: admin.orgId, name: "P", slug: "p", creator: .user(admin.userId))
        let env = project.environments[0]
        let secretId = SecureRandom.id()
        let now = h.clock.source.now()
        try await h.platform.database.query("""
            INSERT INTO dynamic_secrets (id, org_id, project_id, environment_id, path, name, type, version, default_ttl, max_ttl, inputs, sealed_inputs, created_at, updated_at)
            VALUES ($1, $2, $3, $4, '/', 'db', 'test', 1, 60, 600, '{}', $5, $6, $6)
            """, [.text(secretId), .text(admin.orgId), .text(project.id), .text(env.id),
                  .text(try h.platform.sealer.seal("{}", context: "dynamic-secret/\(secretId)")), DBValue(now)])
        let engine = LeaseEngine(platform: h.platform, providers: registry)
        let secret = try await h.platform.database.first("SELECT * FROM dynamic_secrets WHERE id = $1", [.text(secretId)])
        let record = try DynamicSecretRecord(row: try #require(secret))
        var ids: [String] = []
        for _ in 0..<count {
            let (lease, data) = try await engine.create(secret: record, ttl: ttl, actor: .system, request: RequestInfo(clientIP: nil, userAgent: nil))
            #expect(data["PASSWORD"] == "p")
            ids.append(lease.id)
        }
        return ids
    }

    /// One pass settles its leases concurrently (bounded), and a lease that fails takes neither
    /// the others' revocations nor their audit entries with it.
    @Test(arguments: TestStore.allCases)
    func aPassSettlesConcurrentlyAndOneFailureLosesNothingElse(store: TestStore) async throws {
        try await Harness.with(store) { h in
            let provider = RecordingProvider()
            _ = try await Self.setUp(h, provider: provider, count: 40)
            let entities = try await h.platform.database.query("SELECT external_entity_id FROM leases", []).map { try $0.string("external_entity_id") }
            provider.failing.withLock { $0 = [entities[3]] }
            h.clock.advance(by: 120)
            let registry = ProviderRegistry()
            registry.register(dynamicSecret: provider)
            let reaper = LeaseReaper(platform: h.platform, providers: registry, batch: 64, concurrency: 8)
            #expect(try await reaper.reapOnce() == 39)
            let peak = provider.running.withLock { $0.peak }
            #expect(peak > 1 && peak <= 8, "peak concurrency \(peak)")
            let orgId = try #require(try await h.platform.database.first("SELECT org_id FROM leases LIMIT 1", [])).string("org_id")
            var q = AuditQuery()
            q.eventType = "lease-expired"
            q.limit = 100
            #expect(try await h.platform.audit.list(orgId: orgId, q).count == 39)
            let failed = try await h.platform.database.query("SELECT attempts FROM leases WHERE status = 'active'", []).map { try $0.int("attempts") }
            #expect(failed == [1])
            #expect(try await h.platform.audit.verify(orgId: orgId).valid)
        }
    }

    @Test(arguments: TestStore.allCases)
    func replicasNeverRevokeTheSameLeaseTwice(store: TestStore) async throws {
        try await Harness.with(store) { h in
            let provider = RecordingProvider()
            let ids = try await Self.setUp(h, provider: provider, count: 30)
            h.clock.advance(by: 120)
            let registry = ProviderRegistry()
            registry.register(dynamicSecret: provider)
            let reapers = (0..<3).map { _ in LeaseReaper(platform: h.platform, providers: registry) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for reaper in reapers {
                    group.addTask { for _ in 0..<4 { try await reaper.reapOnce(limit: 7) } }
                }
                try await group.waitForAll()
            }
            let revoked = provider.revokes.withLock { $0 }
            #expect(revoked.count == ids.count)
            #expect(Set(revoked).count == revoked.count, "a lease was revoked twice")
            let statuses = try await h.platform.database.query("SELECT status FROM leases", []).map { try $0.string("status") }
            #expect(statuses.allSatisfy { $0 == "expired" })
        }
    }

    @Test(arguments: TestStore.allCases)
    func failuresBackOffThenMarkRevocationFailedAndKeepRetrying(store: TestStore) async throws {
        try await Harness.with(store) { h in
            let provider = RecordingProvider()
            let ids = try await Self.setUp(h, provider: provider, count: 1)
            provider.failRevokes.withLock { $0 = true }
            let registry = ProviderRegistry()
            registry.register(dynamicSecret: provider)
            let reaper = LeaseReaper(platform: h.platform, providers: registry)
            h.clock.advance(by: 120)
            var previousNext: Int64 = 0
            for attempt in 1...5 {
                #expect(try await reaper.reapOnce() == 0)
                let row = try #require(try await h.platform.database.first("SELECT * FROM leases WHERE id = $1", [.text(ids[0])]))
                #expect(try row.int("attempts") == Int64(attempt))
                let next = try row.int("next_attempt_at")
                #expect(next > h.clock.source.now().milliseconds, "the next attempt is in the future")
                #expect(next - h.clock.source.now().milliseconds >= previousNext / 2, "backoff does not shrink")
                previousNext = next - h.clock.source.now().milliseconds
                // Not due again before its backoff.
                #expect(try await reaper.reapOnce() == 0)
                #expect(try await h.platform.database.first("SELECT attempts FROM leases WHERE id = $1", [.text(ids[0])])?.int("attempts") == Int64(attempt))
                h.clock.advance(by: 700)
            }
            let failed = try #require(try await h.platform.database.first("SELECT status, status_details FROM leases WHERE id = $1", [.text(ids[0])]))
            #expect(try failed.string("status") == "revocation_failed")
            #expect(try failed.optionalString("status_details")?.contains("cloud is down") == true)
            provider.failRevokes.withLock { $0 = false }
            #expect(try await reaper.reapOnce() == 1, "a failed lease is still retried, and succeeds once the cloud is back")
            #expect(try await h.platform.database.first("SELECT status FROM leases WHERE id = $1", [.text(ids[0])])?.string("status") == "expired")
            let audit = try await h.platform.audit.list(orgId: try await h.platform.database.first("SELECT org_id FROM leases", [])!.string("org_id"), AuditQuery())
            #expect(audit.contains { $0.eventType == "lease-revocation-failed" })
            #expect(audit.contains { $0.eventType == "lease-expired" })
        }
    }

    /// What a provider keeps to revoke quickly is sealed with its lease, handed back to revoke
    /// (by the API and by the reaper alike), and dropped once the lease is settled.
    @Test(arguments: TestStore.allCases)
    func revocationStateIsSealedAndHandedBackToRevoke(store: TestStore) async throws {
        try await Harness.with(store) { h in
            let provider = RecordingProvider()
            let ids = try await Self.setUp(h, provider: provider, count: 2)
            let rows = try await h.platform.database.query("SELECT id, external_entity_id, sealed_revocation_state FROM leases ORDER BY id", [])
            #expect(rows.count == 2)
            for row in rows {
                let sealed = try #require(try row.optionalString("sealed_revocation_state"))
                #expect(!sealed.contains("handle-"), "sealed at rest")
                let entity = try row.string("external_entity_id")
                #expect(LeaseRecord.openState(sealed, leaseId: try row.string("id"), sealer: h.platform.sealer) == ["handle": "handle-\(entity)"])
            }
            // Bound to its lease: moved to another lease's row, it does not open there.
            let other = try rows[1].string("id")
            #expect(LeaseRecord.openState(try #require(try rows[0].optionalString("sealed_revocation_state")), leaseId: other, sealer: h.platform.sealer) == nil)
            let registry = ProviderRegistry()
            registry.register(dynamicSecret: provider)
            let engine = LeaseEngine(platform: h.platform, providers: registry)
            let secret = try DynamicSecretRecord(row: try #require(try await h.platform.database.first("SELECT * FROM dynamic_secrets", [])))
            let first = try #require(try await engine.lease(id: ids[0]))
            _ = try await engine.revoke(lease: first, secret: secret, force: false, actor: .system, request: RequestInfo(clientIP: nil, userAgent: nil))
            h.clock.advance(by: 120)
            #expect(try await LeaseReaper(platform: h.platform, providers: registry).reapOnce() == 1)
            let states = provider.revokedStates.withLock { $0 }
            for entity in try rows.map({ try $0.string("external_entity_id") }) {
                #expect(states[entity] == ["handle": "handle-\(entity)"])
            }
            let left = try await h.platform.database.query("SELECT id FROM leases WHERE sealed_revocation_state IS NOT NULL", [])
            #expect(left.isEmpty, "a settled lease keeps no revocation state")
        }
    }

    @Test(arguments: TestStore.allCases)
    func interruptedCreationIsCleanedUpAfterTheGracePeriod(store: TestStore) async throws {
        try await Harness.with(store) { h in
            let provider = RecordingProvider()
            _ = try await Self.setUp(h, provider: provider, count: 0)
            let secret = try #require(try await h.platform.database.first("SELECT * FROM dynamic_secrets", []))
            // A server died between writing the row and hearing back from the provider.
            try await h.platform.database.query("""
                INSERT INTO leases (id, org_id, project_id, dynamic_secret_id, external_entity_id, status, version, created_at, updated_at, expire_at, max_expire_at)
                VALUES ('stuck', $1, $2, $3, 'entity-stuck', 'creating', 1, $4, $4, $5, $5)
                """, [.text(try secret.string("org_id")), .text(try secret.string("project_id")), .text(try secret.string("id")),
                      DBValue(h.clock.source.now()), DBValue(h.clock.source.now().addingTimeInterval(3600))])
            let registry = ProviderRegistry()
            registry.register(dynamicSecret: provider)
            let reaper = LeaseReaper(platform: h.platform, providers: registry, creatingGrace: 300)
            #expect(try await reaper.reapOnce() == 0, "within the grace period the create may still be running")
            h.clock.advance(by: 301)
            #expect(try await reaper.reapOnce() == 1)
            #expect(provider.revokes.withLock { $0 } == ["entity-stuck"])
            #expect(provider.revokedStates.withLock { $0["entity-stuck"] } == [:], "a create that never finished has no state to hand back")
            #expect(try await h.platform.database.first("SELECT status FROM leases WHERE id = 'stuck'", [])?.string("status") == "revoked")
        }
    }

    @Test(arguments: TestStore.allCases)
    func failedCreationLeavesNoRowAndSecretsAreSealed(store: TestStore) async throws {
        try await Harness.with(store) { h in
            let provider = RecordingProvider()
            _ = try await Self.setUp(h, provider: provider, count: 0)
            provider.failCreate.withLock { $0 = true }
            let registry = ProviderRegistry()
            registry.register(dynamicSecret: provider)
            let engine = LeaseEngine(platform: h.platform, providers: registry)
            let record = try DynamicSecretRecord(row: try #require(try await h.platform.database.first("SELECT * FROM dynamic_secrets", [])))
            await #expect(throws: APIError.self) { try await engine.create(secret: record, ttl: 30, actor: .system, request: RequestInfo(clientIP: nil, userAgent: nil)) }
            #expect(try await h.platform.database.query("SELECT id FROM leases", []).isEmpty)
            await #expect(throws: APIError.self) { try await engine.create(secret: record, ttl: 601, actor: .system, request: RequestInfo(clientIP: nil, userAgent: nil)) }
        }
    }
}
