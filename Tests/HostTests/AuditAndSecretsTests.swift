import Core
import Foundation
import Testing
@testable import Host

@Suite("Audit log and secrets at rest", .serialized)
struct AuditAndSecretsTests {
    @Test(arguments: TestStore.allCases)
    func stateChangesAreAuditedAndTamperingIsFound(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let admin = try await api.bootstrap()
                let p = try await api.call(.post, "/api/v1/projects", token: admin.token, json: ["projectName": "Audited"])
                let projectId = p.object("project")["id"] as? String ?? ""
                let i = try await api.call(.post, "/api/v1/identities", token: admin.token, json: ["name": "bot", "organizationId": admin.orgId])
                let identityId = i.object("identity")["id"] as? String ?? ""
                _ = try await api.call(.patch, "/api/v1/identities/\(identityId)", token: admin.token, json: ["name": "bot2"])
                _ = try await api.call(.post, "/api/v1/projects/\(projectId)/environments", token: admin.token, json: ["name": "QA", "slug": "qa"])
                _ = try await api.call(.post, "/api/v1/projects/\(projectId)/identity-memberships/\(identityId)", token: admin.token, json: ["role": "viewer"])
                _ = try await api.call(.delete, "/api/v1/identities/\(identityId)", token: admin.token)
                _ = try await api.call(.post, "/api/v1/auth/user/login", json: ["email": "admin@example.com", "password": "correct horse battery"])
                _ = try await api.call(.post, "/api/v1/auth/user/login", json: ["email": "admin@example.com", "password": "not the password"])

                let all = try await api.call(.get, "/api/v1/organizations/\(admin.orgId)/audit-logs?limit=100", token: admin.token)
                let logs = all["auditLogs"] as? [[String: Any]] ?? []
                let types = Set(logs.compactMap { $0["eventType"] as? String })
                for expected in ["bootstrap", "project-created", "identity-created", "identity-updated", "environment-created",
                                 "project-identity-membership-set", "identity-deleted", "user-login", "user-login-failed"] {
                    #expect(types.contains(expected), "missing audit event \(expected)")
                }
                let created = try #require(logs.first { $0["eventType"] as? String == "project-created" })
                #expect(created["projectId"] as? String == projectId)
                #expect((created["actor"] as? [String: Any])?["type"] as? String == "identity")
                #expect(((created["actor"] as? [String: Any])?["metadata"] as? [String: Any])?["authMethod"] as? String == "bootstrap")

                let filtered = try await api.call(.get, "/api/v1/organizations/\(admin.orgId)/audit-logs?projectId=\(projectId)&limit=2&offset=1", token: admin.token)
                #expect((filtered["auditLogs"] as? [[String: Any]])?.count == 2)
                #expect(try await api.call(.get, "/api/v1/organizations/\(admin.orgId)/audit-logs?limit=0", token: admin.token).status == 400)
                #expect(try await api.call(.get, "/api/v1/organizations/\(admin.orgId)/audit-logs?startDate=yesterday", token: admin.token).status == 400)
                let future = ISO8601Format.string(h.clock.source.now().addingTimeInterval(3600))
                #expect((try await api.call(.get, "/api/v1/organizations/\(admin.orgId)/audit-logs?startDate=\(future)", token: admin.token)["auditLogs"] as? [Any])?.isEmpty == true)

                let verified = try await api.call(.get, "/api/v1/organizations/\(admin.orgId)/audit-logs/verify", token: admin.token)
                #expect(verified["valid"] as? Bool == true)
                #expect(verified["checked"] as? Int == logs.count + 0)

                // Someone with database access rewrites history: verify points at the entry.
                let victim = try #require(logs.first { $0["eventType"] as? String == "identity-deleted" })
                try await h.platform.database.query("UPDATE audit_log SET event_metadata = $1 WHERE id = $2",
                                                    [.text("{\"identityId\":\"someone-else\"}"), .text(victim["id"] as? String ?? "")])
                let broken = try await api.call(.get, "/api/v1/organizations/\(admin.orgId)/audit-logs/verify", token: admin.token)
                #expect(broken["valid"] as? Bool == false)
                #expect(broken["firstBrokenId"] as? String == victim["id"] as? String)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func keysetPagesAndVerifyingTheLastEntries(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let admin = try await api.bootstrap()
                for n in 0..<25 { try await h.platform.audit.record(AuditEvent(n % 2 == 0 ? "even" : "odd", orgId: admin.orgId, actor: .system)) }
                // Pages of 5 "even" entries by keyset: every one exactly once, newest first.
                var seen: [String] = []
                var before: String?
                repeat {
                    let page = try await api.call(.get, "/api/v1/organizations/\(admin.orgId)/audit-logs?eventType=even&limit=5" + (before.map { "&before=\($0)" } ?? ""),
                                                  token: admin.token)
                    seen += ((page["auditLogs"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
                    before = page["nextBefore"] as? String
                } while before != nil
                #expect(seen.count == 13 && Set(seen).count == 13)
                #expect(try await api.call(.get, "/api/v1/organizations/\(admin.orgId)/audit-logs?before=soon", token: admin.token).status == 400)

                let last = try await api.call(.get, "/api/v1/organizations/\(admin.orgId)/audit-logs/verify?last=10", token: admin.token)
                #expect(last["valid"] as? Bool == true && last["checked"] as? Int == 10)
                // An edit before the window is outside it; an edit inside is found.
                let head = try await h.platform.audit.headSequence(orgId: admin.orgId)
                try await h.platform.database.query(SQL("UPDATE audit_log SET event_type = 'edited' WHERE org_id = \(admin.orgId) AND seq = \(head - 15)"))
                #expect(try await h.platform.audit.verify(orgId: admin.orgId, last: 10).valid)
                #expect(try await h.platform.audit.verify(orgId: admin.orgId).valid == false)
                try await h.platform.database.query(SQL("UPDATE audit_log SET event_type = 'edited' WHERE org_id = \(admin.orgId) AND seq = \(head - 3)"))
                #expect(try await h.platform.audit.verify(orgId: admin.orgId, last: 10).valid == false)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func deletedTailIsFound(store: TestStore) async throws {
        try await Harness.with(store) { h in
            let orgId = try await h.test { api in try await api.bootstrap().orgId }
            for n in 0..<3 { try await h.platform.audit.record(AuditEvent("test-\(n)", orgId: orgId, actor: .system)) }
            #expect(try await h.platform.audit.verify(orgId: orgId).valid)
            try await h.platform.database.query("DELETE FROM audit_log WHERE event_type = 'test-2'", [])
            #expect(try await h.platform.audit.verify(orgId: orgId).valid == false)
        }
    }

    @Test(arguments: TestStore.allCases)
    func concurrentAppendsKeepOneChain(store: TestStore) async throws {
        try await Harness.with(store) { h in
            let orgId = try await h.test { api in try await api.bootstrap().orgId }
            let audit = h.platform.audit
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<40 { group.addTask { try await audit.record(AuditEvent("burst", orgId: orgId, actor: .system, metadata: ["n": "\(n)"])) } }
                try await group.waitForAll()
            }
            let result = try await audit.verify(orgId: orgId)
            #expect(result.valid)
            #expect(result.checked == 41)
        }
    }

    /// No password, token or sealed secret appears in plain text anywhere in the database or
    /// the audit metadata.
    @Test(arguments: TestStore.allCases)
    func noSecretStoredInPlainText(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let admin = try await api.bootstrap()
                let login = try await api.call(.post, "/api/v1/auth/user/login", json: ["email": "admin@example.com", "password": "correct horse battery"])
                let userToken = login["accessToken"] as? String ?? ""
                let sealed = try h.platform.sealer.seal("AKIA-super-secret-value", context: "test")
                try await h.platform.database.query("INSERT INTO instance_settings (key, value, created_at) VALUES ('sealed-sample', $1, 0)", [.text(sealed)])
                var dump = ""
                for table in ["instance_settings", "organizations", "users", "org_memberships", "identities", "projects", "environments",
                              "access_tokens", "audit_log", "audit_heads", "project_identity_memberships", "project_user_memberships"] {
                    for row in try await h.platform.database.query("SELECT * FROM \(table)", []) {
                        dump += row.values.values.map { "\($0)" }.joined(separator: "|") + "\n"
                    }
                }
                #expect(dump.contains("admin@example.com")) // the dump really holds the data
                for secret in ["correct horse battery", admin.token, userToken, "AKIA-super-secret-value",
                               String(admin.token.dropFirst(TokenService.prefix.count))] {
                    #expect(!dump.contains(secret), "found a secret in the database")
                }
                let audit = try await api.call(.get, "/api/v1/organizations/\(admin.orgId)/audit-logs?limit=1000", token: admin.token)
                #expect(!audit.text.contains("correct horse") && !audit.text.contains(admin.token) && !audit.text.contains(userToken))
            }
        }
    }
}

@Suite("Storage drivers", .serialized)
struct StorageTests {
    @Test(arguments: TestStore.allCases)
    func migrationsAreIdempotentAndSafeConcurrently(store: TestStore) async throws {
        try await TestSupport.withDatabase(store) { db in
            let migrations = ServerBuilder(platform: Platform(database: db, sealer: try Sealer(rootKey: Harness.rootKey), logger: TestSupport.logger, publicURL: "x"),
                                           settings: PluginSettings([:]), httpClient: TestSupport.httpClient).migrations
            let migrator = Migrator(database: db, logger: TestSupport.logger)
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<3 { group.addTask { try await migrator.migrate(migrations).count } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(counts.sorted() == [0, 0, migrations.count])
            #expect(try await migrator.migrate(migrations).isEmpty)
            let rows = try await db.query("SELECT owner, version FROM schema_migrations", [])
            #expect(rows.count == migrations.count)
        }
    }

    @Test(arguments: TestStore.allCases)
    func transactionsRollBackAndUniqueViolationsAreTyped(store: TestStore) async throws {
        try await TestSupport.withDatabase(store) { db in
            try await db.query("CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT)", [])
            await #expect(throws: TestFailure.self) {
                try await db.transaction { tx in
                    try await tx.query("INSERT INTO t (k, n) VALUES ($1, $2)", [.text("a"), .int(1)])
                    throw TestFailure("boom")
                }
            }
            #expect(try await db.query("SELECT * FROM t", []).isEmpty)
            try await db.query("INSERT INTO t (k, n) VALUES ($1, $2)", [.text("a"), .int(1)])
            await #expect(throws: StorageError.self) { try await db.query("INSERT INTO t (k, n) VALUES ($1, $2)", [.text("a"), .int(2)]) }
            let row = try #require(try await db.first("SELECT k, n, NULL AS z FROM t WHERE k = $1", [.text("a")]))
            #expect(try row.string("k") == "a")
            #expect(try row.int("n") == 1)
            #expect(try row.optionalString("z") == nil)
            // Placeholders may repeat and come in any order.
            let swapped = try await db.first("SELECT k FROM t WHERE n = $2 AND k = $1 AND k = $1", [.text("a"), .int(1)])
            #expect(swapped != nil)
        }
    }
}
