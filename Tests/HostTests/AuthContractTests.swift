import Core
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Host

/// A login method written against Core's contract in a few lines: a config with a pin, and a
/// login that checks it. Everything else (config routes, token settings, issuance, audit,
/// lockout) is Core's.
struct PinAuthProvider: IdentityAuthProvider {
    struct Config: Encodable, Sendable { let hint: String; let pin: String
        enum CodingKeys: String, CodingKey { case hint }
    }
    struct Input: Decodable, Sendable { let pin: String?; let hint: String? }

    var method: String { "pin-auth" }
    var configTable: String { "pin_auth_configs" }
    var responseKey: String { "identityPinAuth" }
    var displayName: String { "Pin Auth" }

    func config(from row: DBRow) throws -> Config { Config(hint: try row.string("hint"), pin: try row.string("pin")) }
    func columns(of config: Config) -> [(String, DBValue)] { [("hint", .text(config.hint)), ("pin", .text(config.pin))] }
    func config(from input: Input, current: Config?) throws -> Config {
        guard let pin = input.pin ?? current?.pin, pin.count >= 4 else { throw APIError.badRequest("pin must have 4 characters or more") }
        return Config(hint: input.hint ?? current?.hint ?? "", pin: pin)
    }
}

struct PinAuthPlugin: KMSPlugin {
    var name: String { "auth-pin" }
    var tablePrefix: String { "pin_auth_" }
    var migrations: [Migration] {
        [Migration(owner: name, version: 1, name: "pin configs", statements: ["""
            CREATE TABLE pin_auth_configs (id TEXT PRIMARY KEY, identity_id TEXT NOT NULL UNIQUE REFERENCES identities(id) ON DELETE CASCADE,
                org_id TEXT NOT NULL, ttl BIGINT NOT NULL, max_ttl BIGINT NOT NULL, num_uses_limit BIGINT NOT NULL, trusted_ips TEXT NOT NULL,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, hint TEXT NOT NULL, pin TEXT NOT NULL)
            """])]
    }
    struct LoginInput: Decodable { let identityId: String; let pin: String }

    func register(_ context: PluginContext) {
        let provider = PinAuthProvider()
        AuthConfigRoutes(provider: provider, platform: context.platform).register(context.routes.authenticated)
        let login = IdentityLogin(provider: provider, platform: context.platform, refusal: .unauthorized("invalid identity or pin"))
        let platform = context.platform
        context.routes.login.post("/api/v1/auth/pin-auth/login") { request, ctx -> JSONResponse<TokenRoutes.TokenOutput> in
            let input = try await request.json(LoginInput.self, context: ctx)
            let issued = try await login.login(identityId: input.identityId, context: ctx) { config in
                guard let config, config.own.pin == input.pin else { throw LoginRefusal("wrong pin") }
                return [:]
            }
            return JSONResponse(TokenRoutes.TokenOutput(token: issued.token, record: issued.record, now: platform.clock.now()))
        }
    }
}

@Suite("Identity auth contract", .serialized)
struct AuthContractTests {
    @Test(arguments: TestStore.allCases)
    func aProviderGetsConfigRoutesIssuanceAuditAndLockoutFromCore(store: TestStore) async throws {
        try await Harness.with(store, plugins: PluginList.all + [PinAuthPlugin()]) { h in
            // A second replica on the same database.
            let replica = ServerBuilder(platform: h.platform, plugins: PluginList.all + [PinAuthPlugin()], settings: PluginSettings([:]), httpClient: TestSupport.httpClient)
            let other = Application(router: try replica.buildRouter(), logger: TestSupport.logger)
            try await h.test { api in
                let root = try await api.bootstrap()
                let id = try await api.identity(admin: root.token, orgId: root.orgId, name: "p")
                let base = "/api/v1/auth/pin-auth/identities/\(id)"
                #expect(try await api.call(.post, base, token: root.token, json: ["pin": "12"]).status == 400)
                let attached = try await api.call(.post, base, token: root.token, json: ["pin": "4242", "hint": "the answer", "accessTokenTTL": 60, "accessTokenMaxTTL": 120,
                                                                                      "lockoutThreshold": 3, "lockoutDurationSeconds": 60])
                #expect(attached.status == 200, "\(attached.text)")
                let config = attached.object("identityPinAuth")
                #expect(config["hint"] as? String == "the answer" && config["pin"] == nil, "the provider decides what is shown")
                #expect(config["accessTokenTTL"] as? Int == 60 && config["lockoutThreshold"] as? Int == 3 && config["lockoutEnabled"] as? Bool == true)
                #expect(try await api.call(.get, "/api/v1/identities/\(id)", token: root.token).object("identity")["authMethods"] as? [String] == ["pin-auth"])

                @Sendable func login(_ pin: String, as identity: String = id, on client: API = api) async throws -> Reply {
                    try await client.call(.post, "/api/v1/auth/pin-auth/login", json: ["identityId": identity, "pin": pin])
                }
                let good = try await login("4242")
                #expect(good.status == 200 && good["expiresIn"] as? Int == 60)
                // Three wrong pins lock this identity for this address, on every replica.
                for _ in 0..<3 { #expect(try await login("0000").status == 401) }
                let locked = try await login("4242")
                #expect(locked.status == 429 && Int(locked.headers[.retryAfter] ?? "") ?? 0 > 0)
                let elsewhere = try await other.test(.router) { client in try await login("4242", on: API(client: client)) }
                #expect(elsewhere.status == 429, "the lock is in the database")
                h.clock.advance(by: 61)
                let later = try await login("4242")
                #expect(later.status == 200, "a good login works once the lock ends")
                // An unknown identity locks the same way: locking is no oracle.
                let ghost = SecureRandom.id()
                for _ in 0..<5 { #expect(try await login("0000", as: ghost).status == 401) }
                #expect(try await login("0000", as: ghost).status == 429)

                let audit = try await api.call(.get, "/api/v1/organizations/\(root.orgId)/audit-logs?limit=200", token: root.token)
                let types = Set((audit["auditLogs"] as? [[String: Any]] ?? []).compactMap { $0["eventType"] as? String })
                #expect(types.isSuperset(of: ["pin-auth-attached", "pin-auth-login", "pin-auth-login-failed", "pin-auth-login-locked"]))
                // Revoke ends every token it issued.
                let token = later["accessToken"] as? String ?? ""
                #expect(try await api.call(.get, "/api/v1/auth/token/self", token: token).status == 200)
                #expect(try await api.call(.delete, base, token: root.token).status == 200)
                #expect(try await api.call(.get, "/api/v1/auth/token/self", token: token).status == 401)
                // Guesses leave rows; the janitor forgets them once they can lock no one.
                let janitor = LoginLockoutJanitor(platform: h.platform, retention: 3600)
                #expect(try await janitor.sweep() == 0, "recent failures and live locks are kept")
                h.clock.advance(by: 3601)
                #expect(try await janitor.sweep() >= 1)
                #expect(try await h.platform.database.query("SELECT identity_id FROM login_lockouts", []).isEmpty)
            }
        }
    }

    @Test func loginRoutesAreRateLimitedPerClient() async throws {
        try await Harness.with(.sqlite, plugins: PluginList.all + [PinAuthPlugin()],
                               settings: ["KMS_LOGIN_BURST_PER_CLIENT": "3", "KMS_LOGIN_RATE_PER_CLIENT": "0.5"]) { h in
            try await h.test { api in
                _ = try await api.bootstrap()  // the bootstrap is a login route too: one of the three
                var statuses: [Int] = []
                for path in ["/api/v1/auth/user/login", "/api/v1/auth/universal-auth/login", "/api/v1/auth/pin-auth/login", "/api/v1/auth/aws-auth/login"] {
                    statuses.append(try await api.call(.post, path, json: ["email": "a@b.cc", "password": "wrong password here"]).status)
                }
                #expect(statuses.prefix(2).allSatisfy { $0 != 429 } && statuses.suffix(2).allSatisfy { $0 == 429 }, "\(statuses)")
                let limited = try await api.call(.post, "/api/v1/auth/user/login", json: ["email": "a@b.cc", "password": "wrong password here"])
                #expect(limited.status == 429 && Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)
                // Routes that check no password are not limited.
                #expect(try await api.call(.get, "/api/status").status == 200)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func concurrentFailuresCannotLiftALock(store: TestStore) async throws {
        try await Harness.with(store, plugins: PluginList.all + [PinAuthPlugin()]) { h in
            try await h.test { api in
                let root = try await api.bootstrap()
                let id = try await api.identity(admin: root.token, orgId: root.orgId, name: "p")
                #expect(try await api.call(.post, "/api/v1/auth/pin-auth/identities/\(id)", token: root.token, json: ["pin": "4242", "lockoutThreshold": 3]).status == 200)
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<12 {
                        group.addTask { try await api.call(.post, "/api/v1/auth/pin-auth/login", json: ["identityId": id, "pin": "0000"]).status }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(Set(statuses).isSubset(of: [401, 429]))
                let right = try await api.call(.post, "/api/v1/auth/pin-auth/login", json: ["identityId": id, "pin": "4242"])
                #expect(right.status == 429, "twelve racing failures leave the identity locked, whatever their order")
            }
        }
    }
}
