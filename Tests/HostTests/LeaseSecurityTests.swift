import Core
import Foundation
import Synchronization
import Testing
@testable import Host

/// A provider that records the inputs each revocation was given, and fails or stalls on demand.
final class ConfigRecordingProvider: DynamicSecretProvider, Sendable {
    let type = "rec"
    let revoked = Mutex<[(entity: String, inputs: String)]>([])
    /// The revocation state each revocation was handed, by entity.
    let revokedStates = Mutex<[String: [String: String]]>([:])
    let created = Mutex<[String]>([])
    let failCreate = Mutex(false)
    let failRevoke = Mutex(false)
    let beforeCreateReturns = Mutex<(@Sendable () async -> Void)?>(nil)
    let refuseAuthorization = Mutex(false)
    let nothingCreated = Mutex(false)

    func authorize(config: DynamicSecretConfig) async throws {
        if refuseAuthorization.withLock({ $0 }) { throw APIError.forbidden("this organization may not use that connection") }
    }

    func validate(inputs: JSONValue, projectId: String) async throws -> (public: JSONValue, secret: JSONValue) {
        (inputs, .object(["secret": .string("s3cret-\(inputs["account"]?.string ?? "")")]))
    }
    func plannedEntityId(config: DynamicSecretConfig, leaseId: String) throws -> String { "user-\(leaseId.prefix(8))" }
    func canRenew(config: DynamicSecretConfig) -> Bool { true }
    func create(config: DynamicSecretConfig, entityId: String, leaseId: String, ttl: Int) async throws -> DynamicSecretEntity {
        created.withLock { $0.append(entityId) }
        if nothingCreated.withLock({ $0 }) { throw NothingCreated(APIError.badRequest("the cloud refused the first call")) }
        if failCreate.withLock({ $0 }) { throw APIError.badGateway("create failed half-way") }
        if let hook = beforeCreateReturns.withLock({ $0 }) { await hook() }
        return DynamicSecretEntity(externalEntityId: entityId, data: ["KEY": "k"], revocationState: ["key": "key-\(entityId)"])
    }
    func revoke(config: DynamicSecretConfig, entity: LeasedEntity) async throws {
        let entityId = entity.id
        if failRevoke.withLock({ $0 }) { throw APIError.badGateway("cloud is down") }
        let account = config.inputs["account"]?.string ?? "?"
        let secret = config.inputs["secret"]?.string ?? "?"
        revoked.withLock { $0.append((entityId, "\(account)/\(secret)")) }
        revokedStates.withLock { $0[entityId] = entity.state }
    }
}

/// Registers one provider instance, as a plugin would.
struct ProviderPlugin: KMSPlugin {
    let provider: any DynamicSecretProvider
    var name: String { "test-provider" }
    func register(_ context: PluginContext) { context.providers.register(dynamicSecret: provider) }
}

/// Regression tests for the lease lifecycle defects of the security review (issue 10, items 5,
/// 6 and 15).
@Suite("Lease lifecycle under edits, deletion and races", .serialized)
struct LeaseSecurityTests {
    static var scope: [String: Any] { ["projectSlug": "web", "environmentSlug": "dev", "path": "/"] }

    static func with(_ store: TestStore, _ body: @escaping @Sendable (Harness, API, ConfigRecordingProvider, String) async throws -> Void) async throws {
        let provider = ConfigRecordingProvider()
        try await Harness.with(store, plugins: PluginList.all + [ProviderPlugin(provider: provider)]) { h in
            try await h.test { api in
                let root = try await api.bootstrap()
                #expect(try await api.call(.post, "/api/v1/projects", token: root.token, json: ["projectName": "Web", "slug": "web"]).status == 200)
                let made = try await api.call(.post, "/api/v1/dynamic-secrets", token: root.token, json: scope.merging([
                    "name": "db", "defaultTTL": 60, "maxTTL": 600, "provider": ["type": "rec", "inputs": ["account": "old"]]]) { a, _ in a })
                #expect(made.status == 200, "\(made.text)")
                try await body(h, api, provider, root.token)
            }
        }
    }

    static func lease(_ api: API, _ token: String) async throws -> String {
        let r = try await api.call(.post, "/api/v1/dynamic-secrets/leases", token: token, json: scope.merging(["dynamicSecretName": "db"]) { a, _ in a })
        guard r.status == 200 else { throw TestFailure("lease failed: \(r.text)") }
        return r.object("lease")["id"] as? String ?? ""
    }

    @Test(arguments: TestStore.allCases)
    func aLeaseIsRevokedWithTheConfigItWasMadeWith(store: TestStore) async throws {
        try await Self.with(store) { h, api, provider, token in
            let id = try await Self.lease(api, token)
            let edited = try await api.call(.patch, "/api/v1/dynamic-secrets/db", token: token, json: Self.scope.merging(["data": ["inputs": ["account": "new"]]]) { a, _ in a })
            #expect(edited.status == 200)
            let revoked = try await api.call(.delete, "/api/v1/dynamic-secrets/leases/\(id)", token: token, json: Self.scope)
            #expect(revoked.status == 200)
            #expect(provider.revoked.withLock { $0.map(\.inputs) } == ["old/s3cret-old"], "revoked through the old connection, secret inputs included")
            // A lease made after the edit uses the new config.
            let second = try await Self.lease(api, token)
            #expect(try await api.call(.delete, "/api/v1/dynamic-secrets/leases/\(second)", token: token, json: Self.scope).status == 200)
            #expect(provider.revoked.withLock { $0.last?.inputs } == "new/s3cret-new")
        }
    }

    @Test(arguments: TestStore.allCases)
    func deletingAProjectHandsItsLiveLeasesToTheReaper(store: TestStore) async throws {
        try await Self.with(store) { h, api, provider, token in
            let ids = [try await Self.lease(api, token), try await Self.lease(api, token)]
            let project = try #require(try await h.platform.projects.find(slug: "web", orgId: try await h.platform.database.first("SELECT org_id FROM leases", [])!.string("org_id")))
            #expect(try await api.call(.delete, "/api/v1/projects/\(project.id)", token: token).status == 200)
            let reaper = LeaseReaper(platform: h.platform, providers: h.builder.registry)
            #expect(try await reaper.reapOnce() == 2, "due at once, not at their expiry")
            #expect(Set(provider.revoked.withLock { $0.map(\.entity) }).count == 2)
            let statuses = try await h.platform.database.query("SELECT status FROM leases WHERE id IN ($1, $2)", [.text(ids[0]), .text(ids[1])])
            #expect(try statuses.map { try $0.string("status") } == ["expired", "expired"])
        }
    }

    @Test(arguments: TestStore.allCases)
    func aFailedCreateWhoseCleanupFailsStaysForTheReaper(store: TestStore) async throws {
        try await Self.with(store) { h, api, provider, token in
            provider.failCreate.withLock { $0 = true }
            provider.failRevoke.withLock { $0 = true }
            let r = try await api.call(.post, "/api/v1/dynamic-secrets/leases", token: token, json: Self.scope.merging(["dynamicSecretName": "db"]) { a, _ in a })
            #expect(r.status == 502)
            let row = try #require(try await h.platform.database.first("SELECT * FROM leases", []))
            #expect(try row.string("status") == "revocation_failed", "the half-made entity is not forgotten")
            #expect(try row.string("external_entity_id") == provider.created.withLock { $0.first })
            #expect(try row.optionalString("sealed_revocation_state") == nil, "a create that threw returned no state")
            provider.failRevoke.withLock { $0 = false }
            #expect(try await LeaseReaper(platform: h.platform, providers: h.builder.registry).reapOnce() == 1)
            #expect(provider.revoked.withLock { $0.map(\.entity) } == provider.created.withLock { $0 })
            // When cleanup works, nothing is left at all.
            let again = try await api.call(.post, "/api/v1/dynamic-secrets/leases", token: token, json: Self.scope.merging(["dynamicSecretName": "db"]) { a, _ in a })
            #expect(again.status == 502)
            #expect(try await h.platform.database.query("SELECT id FROM leases WHERE status <> 'expired'", []).isEmpty)
        }
    }

    @Test(arguments: TestStore.allCases)
    func aCreateTheReaperTookOverIsUndoneNotActivated(store: TestStore) async throws {
        try await Self.with(store) { h, api, provider, token in
            // The provider is slow: meanwhile the grace period passes and a reaper claims the row.
            let platform = h.platform, registry = h.builder.registry
            provider.beforeCreateReturns.withLock {
                $0 = { _ = try? await LeaseReaper(platform: platform, providers: registry, creatingGrace: -1).reapOnce() }
            }
            let r = try await api.call(.post, "/api/v1/dynamic-secrets/leases", token: token, json: Self.scope.merging(["dynamicSecretName": "db"]) { a, _ in a })
            #expect(r.status == 409, "\(r.text)")
            #expect(try await h.platform.database.query("SELECT id FROM leases WHERE status = 'active'", []).isEmpty)
            let created = provider.created.withLock { $0 }
            #expect(provider.revoked.withLock { $0.map(\.entity) }.filter { created.contains($0) }.count >= 1)
        }
    }

    @Test(arguments: TestStore.allCases)
    func renewalNeverRacesTheReapersClaim(store: TestStore) async throws {
        try await Self.with(store) { h, api, provider, token in
            let id = try await Self.lease(api, token)
            // A reaper holds the lease (as it does mid-revocation).
            try await h.platform.database.query("UPDATE leases SET claimed_until = $2 WHERE id = $1",
                                                [.text(id), DBValue(h.clock.source.now().addingTimeInterval(60))])
            let renew = try await api.call(.post, "/api/v1/dynamic-secrets/leases/\(id)/renew", token: token, json: Self.scope.merging(["ttl": 30]) { a, _ in a })
            #expect(renew.status == 409)
            try await h.platform.database.query("UPDATE leases SET claimed_until = 0 WHERE id = $1", [.text(id)])
            #expect(try await api.call(.post, "/api/v1/dynamic-secrets/leases/\(id)/renew", token: token, json: Self.scope.merging(["ttl": 30]) { a, _ in a }).status == 200)
        }
    }

    @Test(arguments: TestStore.allCases)
    func aRefusedConnectionWritesNothingAndCleansNothing(store: TestStore) async throws {
        try await Self.with(store) { h, api, provider, token in
            provider.refuseAuthorization.withLock { $0 = true }
            let refused = try await api.call(.post, "/api/v1/dynamic-secrets/leases", token: token, json: Self.scope.merging(["dynamicSecretName": "db"]) { a, _ in a })
            #expect(refused.status == 403)
            provider.refuseAuthorization.withLock { $0 = false }
            provider.nothingCreated.withLock { $0 = true }
            let failed = try await api.call(.post, "/api/v1/dynamic-secrets/leases", token: token, json: Self.scope.merging(["dynamicSecretName": "db"]) { a, _ in a })
            #expect(failed.status == 400)
            #expect(provider.created.withLock { $0.count } == 1, "only the second reached the provider's create")
            #expect(provider.revoked.withLock { $0.isEmpty }, "nothing to clean up, so no cleanup call with the connection")
            #expect(try await h.platform.database.query("SELECT id FROM leases", []).isEmpty)
        }
    }

    @Test(arguments: TestStore.allCases)
    func aCreateWhoseSecretWasDeletedMeanwhileIsUndone(store: TestStore) async throws {
        try await Self.with(store) { h, api, provider, token in
            let database = h.platform.database
            provider.beforeCreateReturns.withLock { $0 = { _ = try? await database.query("DELETE FROM dynamic_secrets", []) } }
            let r = try await api.call(.post, "/api/v1/dynamic-secrets/leases", token: token, json: Self.scope.merging(["dynamicSecretName": "db"]) { a, _ in a })
            #expect(r.status == 409, "\(r.text)")
            #expect(provider.created.withLock { $0.count } == 1, "the provider really made the entity")
            #expect(provider.revoked.withLock { $0.map(\.entity) } == provider.created.withLock { $0 }, "what was made is revoked at once")
            let made = try #require(provider.created.withLock { $0.first })
            #expect(provider.revokedStates.withLock { $0[made] } == ["key": "key-\(made)"], "with the state its create returned")
            #expect(try await h.platform.database.query("SELECT id FROM leases WHERE status = 'active'", []).isEmpty)
        }
    }

    /// An undo that fails keeps the create's state, sealed, for the reaper, which hands it back
    /// and drops it once the lease is settled.
    @Test(arguments: TestStore.allCases)
    func aFailedUndoKeepsTheStateForTheReaper(store: TestStore) async throws {
        try await Self.with(store) { h, api, provider, token in
            let database = h.platform.database
            provider.beforeCreateReturns.withLock { $0 = { _ = try? await database.query("DELETE FROM dynamic_secrets", []) } }
            provider.failRevoke.withLock { $0 = true }
            let r = try await api.call(.post, "/api/v1/dynamic-secrets/leases", token: token, json: Self.scope.merging(["dynamicSecretName": "db"]) { a, _ in a })
            #expect(r.status == 409, "\(r.text)")
            let row = try #require(try await database.first("SELECT * FROM leases", []))
            #expect(try row.string("status") == "revocation_failed")
            #expect(try row.optionalString("sealed_revocation_state") != nil)
            provider.failRevoke.withLock { $0 = false }
            #expect(try await LeaseReaper(platform: h.platform, providers: h.builder.registry).reapOnce() == 1)
            let made = try #require(provider.created.withLock { $0.first })
            #expect(provider.revokedStates.withLock { $0[made] } == ["key": "key-\(made)"])
            #expect(try await database.first("SELECT sealed_revocation_state FROM leases", [])?.optionalString("sealed_revocation_state") == nil)
        }
    }

    /// A lease still being created is not revoked through the API (its create, or the reaper,
    /// owns it), and deleting its secret leaves it to its create.
    @Test(arguments: TestStore.allCases)
    func aLeaseBeingCreatedIsNotRevokedUnderItsCreate(store: TestStore) async throws {
        try await Self.with(store) { h, api, provider, token in
            let id = try await Self.lease(api, token)
            try await h.platform.database.query("UPDATE leases SET status = 'creating' WHERE id = $1", [.text(id)])
            let r = try await api.call(.delete, "/api/v1/dynamic-secrets/leases/\(id)", token: token, json: Self.scope)
            #expect(r.status == 409, "\(r.text)")
            #expect(provider.revoked.withLock { $0.isEmpty })
            let deleted = try await api.call(.delete, "/api/v1/dynamic-secrets/db", token: token, json: Self.scope)
            #expect(deleted.status == 200, "\(deleted.text)")
            #expect(provider.revoked.withLock { $0.isEmpty }, "left to its create, which sees the secret gone")
            #expect(try await h.platform.database.first("SELECT status FROM leases WHERE id = $1", [.text(id)])?.string("status") == "creating")
        }
    }

    /// A lease whose create finished while its secret was being deleted (after the live leases
    /// were revoked) is made due by the delete, for the reaper to revoke with its own config.
    @Test(arguments: TestStore.allCases)
    func aLeaseActivatedDuringItsSecretsDeleteIsMadeDue(store: TestStore) async throws {
        try await Self.with(store) { h, api, provider, token in
            let id = try await Self.lease(api, token)
            let secretId = try #require(try await h.platform.database.first("SELECT dynamic_secret_id FROM leases WHERE id = $1", [.text(id)])).string("dynamic_secret_id")
            #expect(try await DynamicSecretStore(platform: h.platform).delete(id: secretId) == 1)
            #expect(try await LeaseReaper(platform: h.platform, providers: h.builder.registry).reapOnce() == 1, "due at once")
            #expect(provider.revoked.withLock { $0.count } == 1)
            #expect(try await h.platform.database.first("SELECT status FROM leases WHERE id = $1", [.text(id)])?.string("status") == "expired")
        }
    }
}
