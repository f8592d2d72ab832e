import Core
import Foundation
import Testing
@testable import Host

@Suite("Tokens", .serialized)
struct TokenTests {
    @Test(arguments: TestStore.allCases)
    func ttlRenewAndMaxTTL(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let admin = try await api.bootstrap()
                let identity = try await h.platform.identities.create(orgId: admin.orgId, name: "w", role: .member)
                let issued = try await h.platform.tokens.issue(TokenSpec(orgId: admin.orgId, subject: .identity(identity.id), authMethod: "test", ttl: 100, maxTTL: 250))
                let token = issued.token
                #expect(try await api.call(.get, "/api/v1/auth/token/self", token: token).status == 200)

                h.clock.advance(by: 90)
                let renewed = try await api.call(.post, "/api/v1/auth/token/renew", json: ["accessToken": token])
                #expect(renewed.status == 200)
                #expect(renewed["expiresIn"] as? Int == 100)
                #expect(renewed["accessTokenMaxTTL"] as? Int == 250)

                h.clock.advance(by: 90) // t = 180: renewal is capped at max TTL (t = 250)
                let capped = try await api.call(.post, "/api/v1/auth/token/renew", json: ["accessToken": token])
                #expect(capped["expiresIn"] as? Int == 70)

                h.clock.advance(by: 71) // t = 251: expired for good
                let expired = try await api.call(.get, "/api/v1/auth/token/self", token: token)
                #expect(expired.status == 401)
                #expect((expired["message"] as? String)?.contains("expired") == true)
                #expect(try await api.call(.post, "/api/v1/auth/token/renew", json: ["accessToken": token]).status == 401)
                #expect(try await api.call(.post, "/api/v1/auth/token/renew", json: ["accessToken": "kms_at_nope"]).status == 401)
                #expect(try await api.call(.post, "/api/v1/auth/token/renew", json: [:]).status == 422)
                // A token without TTL does not need renewing.
                #expect(try await api.call(.post, "/api/v1/auth/token/renew", json: ["accessToken": admin.token]).status == 400)
            }
        }
    }

    /// Concurrent uses of one token are counted in batches, never past the limit: exactly the
    /// limit's worth succeed, each with its own use number.
    @Test(arguments: TestStore.allCases)
    func concurrentUsesAreCountedExactly(store: TestStore) async throws {
        try await Harness.with(store) { h in
            let orgId = try await h.test { api in try await api.bootstrap().orgId }
            let identity = try await h.platform.identities.create(orgId: orgId, name: "w", role: .member)
            let issued = try await h.platform.tokens.issue(TokenSpec(orgId: orgId, subject: .identity(identity.id), authMethod: "test", ttl: 100,
                                                                      maxTTL: 100, numUsesLimit: 37))
            let numbers = try await withThrowingTaskGroup(of: Int?.self) { group in
                for _ in 0..<100 {
                    group.addTask { try? await h.platform.tokens.authenticate(issued.token, clientIP: "127.0.0.1").numUses }
                }
                return try await group.reduce(into: [Int]()) { all, n in if let n { all.append(n) } }
            }
            #expect(numbers.sorted() == Array(1...37))
            let row = try await h.platform.database.first(SQL("SELECT num_uses FROM access_tokens WHERE id = \(issued.record.id)"))
            #expect(try row?.int("num_uses") == 37)
        }
    }

    @Test(arguments: TestStore.allCases)
    func revoke(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let admin = try await api.bootstrap()
                let issued = try await h.platform.tokens.issue(TokenSpec(orgId: admin.orgId, subject: .identity(try await h.platform.identities.create(orgId: admin.orgId, name: "w", role: .member).id),
                                                                          authMethod: "test", ttl: 100, maxTTL: 100))
                let r = try await api.call(.post, "/api/v1/auth/token/revoke", json: ["accessToken": issued.token])
                #expect(r.status == 200)
                #expect(try await api.call(.get, "/api/v1/auth/token/self", token: issued.token).status == 401)
                #expect(try await api.call(.post, "/api/v1/auth/token/revoke", json: ["accessToken": issued.token]).status == 401)
                #expect(try await api.call(.post, "/api/v1/auth/token/renew", json: ["accessToken": issued.token]).status == 401)
                let audit = try await api.call(.get, "/api/v1/organizations/\(admin.orgId)/audit-logs?eventType=token-revoked", token: admin.token)
                #expect((audit["auditLogs"] as? [[String: Any]])?.count == 1)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func revokeAllByAuthConfig(store: TestStore) async throws {
        try await Harness.with(store) { h in
            let admin = try await h.test { try await $0.bootstrap() }
            let identity = try await h.platform.identities.create(orgId: admin.orgId, name: "w", role: .member)
            var tokens: [String] = []
            for config in ["cfg-a", "cfg-a", "cfg-b"] {
                tokens.append(try await h.platform.tokens.issue(TokenSpec(orgId: admin.orgId, subject: .identity(identity.id), authMethod: "aws-auth",
                                                                           authConfigId: config, ttl: 100, maxTTL: 100)).token)
            }
            #expect(try await h.platform.tokens.revokeAll(authConfigId: "cfg-a") == 2)
            await #expect(throws: APIError.self) { try await h.platform.tokens.authenticate(tokens[0], clientIP: "127.0.0.1") }
            await #expect(throws: APIError.self) { try await h.platform.tokens.authenticate(tokens[1], clientIP: "127.0.0.1") }
            #expect(try await h.platform.tokens.authenticate(tokens[2], clientIP: "127.0.0.1").authConfigId == "cfg-b")
        }
    }

    @Test(arguments: TestStore.allCases)
    func numUsesLimitIsExactUnderConcurrency(store: TestStore) async throws {
        try await Harness.with(store) { h in
            let admin = try await h.test { try await $0.bootstrap() }
            let identity = try await h.platform.identities.create(orgId: admin.orgId, name: "w", role: .member)
            let token = try await h.platform.tokens.issue(TokenSpec(orgId: admin.orgId, subject: .identity(identity.id), authMethod: "test",
                                                                     ttl: 600, maxTTL: 600, numUsesLimit: 10)).token
            let tokens = h.platform.tokens
            let successes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<60 {
                    group.addTask { (try? await tokens.authenticate(token, clientIP: "127.0.0.1")) != nil }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(successes == 10)
            let record = try #require(try await tokens.lookup(token))
            #expect(record.numUses == 10)
        }
    }

    @Test(arguments: TestStore.allCases)
    func trustedIPsCheckedAgainstPeerAndTrustedProxies(store: TestStore) async throws {
        try await Harness.with(store, trustedProxies: [IPRange("127.0.0.1/32")!]) { h in
            try await h.live { api in
                let admin = try await api.bootstrap()
                let identity = try await h.platform.identities.create(orgId: admin.orgId, name: "w", role: .member)
                func issue(_ ranges: [String]) async throws -> String {
                    try await h.platform.tokens.issue(TokenSpec(orgId: admin.orgId, subject: .identity(identity.id), authMethod: "test", ttl: 60, maxTTL: 60,
                                                                trustedIPs: ranges.compactMap(IPRange.init))).token
                }
                let loopback = try await issue(["127.0.0.0/8"])
                let office = try await issue(["198.51.100.0/24"])
                let v6 = try await issue(["2001:db8::/32"])
                #expect(try await api.call(.get, "/api/v1/auth/token/self", token: loopback).status == 200)
                let denied = try await api.call(.get, "/api/v1/auth/token/self", token: office)
                #expect(denied.status == 403)
                // The peer (127.0.0.1) is a trusted proxy, so X-Forwarded-For names the client.
                #expect(try await api.call(.get, "/api/v1/auth/token/self", token: office, headers: [("X-Forwarded-For", "198.51.100.7")]).status == 200)
                #expect(try await api.call(.get, "/api/v1/auth/token/self", token: v6, headers: [("X-Forwarded-For", "2001:db8::9")]).status == 200)
                #expect(try await api.call(.get, "/api/v1/auth/token/self", token: loopback, headers: [("X-Forwarded-For", "198.51.100.7")]).status == 403)
            }
        }
    }

    @Test func forwardedForIgnoredWithoutTrustedProxies() async throws {
        try await Harness.with(.sqlite) { h in
            try await h.live { api in
                let admin = try await api.bootstrap()
                let identity = try await h.platform.identities.create(orgId: admin.orgId, name: "w", role: .member)
                let office = try await h.platform.tokens.issue(TokenSpec(orgId: admin.orgId, subject: .identity(identity.id), authMethod: "test", ttl: 60, maxTTL: 60,
                                                                          trustedIPs: [IPRange("198.51.100.0/24")!])).token
                #expect(try await api.call(.get, "/api/v1/auth/token/self", token: office, headers: [("X-Forwarded-For", "198.51.100.7")]).status == 403)
            }
        }
    }

    @Test func issueRejectsBadLimits() async throws {
        try await Harness.with(.sqlite) { h in
            await #expect(throws: APIError.self) {
                try await h.platform.tokens.issue(TokenSpec(orgId: "o", subject: .identity("i"), authMethod: "t", ttl: 100, maxTTL: 50))
            }
        }
    }
}
