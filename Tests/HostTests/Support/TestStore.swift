import AWSKit
import Core
import Foundation
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import Logging
import Testing
@testable import Host

/// The two storage drivers every storage and route suite runs on.
enum TestStore: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

enum TestSupport {
    /// Route tests log in far faster than any client should; the limits have tests of their own.
    static let loginLimits = ["KMS_LOGIN_RATE_PER_CLIENT": "100000", "KMS_LOGIN_BURST_PER_CLIENT": "100000",
                              // Configs of the OIDC and LDAP tests name local servers.
                              "KMS_OIDC_ALLOWED_HOSTS": "127.0.0.1", "KMS_LDAP_ALLOWED_HOSTS": "127.0.0.1",
                              "KMS_AUDIT_STREAM_ALLOWED_HOSTS": "127.0.0.1", "KMS_PAM_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"]

    /// One HTTP client (redirects off) for every harness, alive for the whole test process.
    static let httpClient = AWSQueryClient.makeHTTPClient()

    static let logger: Logger = {
        var l = Logger(label: "test")
        l.logLevel = .warning
        return l
    }()

    /// The Postgres server the test command started. Missing is a failure, never a skip.
    static func postgresURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["KMS_TEST_POSTGRES_URL"], !url.isEmpty else {
            throw TestFailure("KMS_TEST_POSTGRES_URL is not set: run the suite with `make test`, which starts Postgres")
        }
        return url
    }

    /// Opens a fresh, empty, migrated database of the given kind, runs `body`, then removes it.
    static func withDatabase<T: Sendable>(_ store: TestStore, _ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        switch store {
        case .sqlite:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kms-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let db = try await SQLiteDatabase.open(path: dir.appendingPathComponent("t.sqlite").path, logger: logger)
            // Closed on failure too: an open connection must not be dropped.
            let result: T
            do { result = try await body(db) } catch {
                try? await db.close()
                throw error
            }
            try await db.close()
            return result
        case .postgres:
            let base = try postgresURL()
            let name = "kms_t_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
            let admin = try PostgresDatabase(url: base, logger: logger, maxConnections: 2)
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { await admin.run(); return nil }
                try await admin.query("CREATE DATABASE \(name)", [])
                var components = URLComponents(string: base)!
                components.path = "/\(name)"
                let db = try PostgresDatabase(url: components.string!, logger: logger)
                let result = try await withThrowingTaskGroup(of: T?.self) { inner in
                    inner.addTask { await db.run(); return nil }
                    defer { inner.cancelAll() }
                    return try await body(db)
                }
                _ = try? await admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", [])
                group.cancelAll()
                return result
            }
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A migrated platform with its router, for route tests.
struct Harness: Sendable {
    let platform: Platform
    let builder: ServerBuilder
    let clock: ManualClock

    static let rootKey = Data((0..<32).map { UInt8($0 &* 7) })

    @discardableResult
    static func with<T: Sendable>(_ store: TestStore, trustedProxies: [IPRange] = [], ambientAWSOrgs: [String] = [],
                                  plugins: [any KMSPlugin] = PluginList.all, settings: [String: String] = [:],
                                  _ body: @escaping @Sendable (Harness) async throws -> T) async throws -> T {
        try await TestSupport.withDatabase(store) { db in
            let clock = ManualClock(Date())
            let platform = Platform(database: db, sealer: try Sealer(rootKey: rootKey), clock: clock.source, logger: TestSupport.logger,
                                    passwords: PasswordHasher(memoryKiB: 1024, iterations: 1), publicURL: "http://kms.test",
                                    ambientAWS: AmbientAWSPolicy(allowed: ambientAWSOrgs))
            let builder = ServerBuilder(platform: platform, plugins: plugins, trustedProxies: trustedProxies,
                                        settings: PluginSettings(TestSupport.loginLimits.merging(settings) { _, given in given }),
                                        httpClient: TestSupport.httpClient)
            try await Migrator(database: db, logger: TestSupport.logger).migrate(builder.migrations)
            return try await body(Harness(platform: platform, builder: builder, clock: clock))
        }
    }

    var application: some ApplicationProtocol { get throws { Application(router: try builder.buildRouter(), logger: TestSupport.logger) } }

    /// Runs `body` against the router without a socket.
    func test<T: Sendable>(_ body: @escaping @Sendable (API) async throws -> T) async throws -> T {
        try await (try application).test(.router) { client in try await body(API(client: client)) }
    }

    /// Runs `body` against a real socket on loopback.
    func live<T: Sendable>(_ body: @escaping @Sendable (API) async throws -> T) async throws -> T {
        try await (try application).test(.live) { client in try await body(API(client: client)) }
    }
}

/// A JSON answer from the API.
struct Reply: Sendable {
    let status: Int
    let text: String
    let headers: HTTPFields

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
    subscript(_ key: String) -> Any? { json[key] }
    func object(_ key: String) -> [String: Any] { json[key] as? [String: Any] ?? [:] }
    var errorName: String? { json["error"] as? String }
}

/// A small JSON client over HummingbirdTesting's client.
struct API: Sendable {
    let client: any TestClientProtocol

    func call(_ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: [String: Any]? = nil, raw: String? = nil,
              headers extra: [(String, String)] = []) async throws -> Reply {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        headers[.contentType] = "application/json"
        for (k, v) in extra { headers[HTTPField.Name(k)!] = v }
        var body: ByteBuffer?
        if let json { body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)) }
        if let raw { body = ByteBuffer(string: raw) }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
            Reply(status: Int(response.status.code), text: String(buffer: response.body), headers: response.headers)
        }
    }

    /// Bootstraps the instance and returns the admin token and the organization id.
    func bootstrap(email: String = "admin@example.com") async throws -> (token: String, orgId: String, userId: String) {
        let r = try await call(.post, "/api/v1/admin/bootstrap", json: ["email": email, "password": "correct horse battery", "organization": "Acme"])
        guard r.status == 200 else { throw TestFailure("bootstrap failed: \(r.text)") }
        let token = (r.object("identity")["credentials"] as? [String: Any])?["token"] as? String ?? ""
        return (token, r.object("organization")["id"] as? String ?? "", r.object("user")["id"] as? String ?? "")
    }

    /// Creates an identity in `orgId` and returns its id.
    func identity(admin: String, orgId: String, name: String) async throws -> String {
        let r = try await call(.post, "/api/v1/identities", token: admin, json: ["name": name, "organizationId": orgId])
        guard r.status == 200, let id = r.object("identity")["id"] as? String else { throw TestFailure("creating identity \(name) failed: \(r.text)") }
        return id
    }

    /// Signs a person in, optionally to a chosen organization; returns the token.
    func login(_ email: String, _ password: String, organizationId: String? = nil) async throws -> Reply {
        var body: [String: Any] = ["email": email, "password": password]
        if let organizationId { body["organizationId"] = organizationId }
        return try await call(.post, "/api/v1/auth/user/login", json: body)
    }

    /// Creates (as instance admin) a person in `orgId` with `role` and returns their token there.
    func person(admin: String, orgId: String, email: String, role: String = "member", password: String = "another long password") async throws -> (token: String, userId: String) {
        let user = try await call(.post, "/api/v1/organizations/\(orgId)/users", token: admin, json: ["email": email, "password": password, "role": role])
        guard user.status == 200 else { throw TestFailure("creating \(email) failed: \(user.text)") }
        let login = try await login(email, password, organizationId: orgId)
        guard login.status == 200 else { throw TestFailure("login failed: \(login.text)") }
        return (login["accessToken"] as? String ?? "", user.object("user")["id"] as? String ?? "")
    }

    /// Creates an organization with an admin user and returns that user's token.
    func tenant(admin: String, name: String, email: String) async throws -> (orgId: String, token: String, userId: String) {
        let org = try await call(.post, "/api/v1/organizations", token: admin, json: ["name": name])
        let orgId = org.object("organization")["id"] as? String ?? ""
        let user = try await call(.post, "/api/v1/organizations/\(orgId)/users", token: admin, json: ["email": email, "password": "another long password", "role": "admin"])
        let login = try await call(.post, "/api/v1/auth/user/login", json: ["email": email, "password": "another long password"])
        guard login.status == 200 else { throw TestFailure("login failed: \(login.text)") }
        return (orgId, login["accessToken"] as? String ?? "", user.object("user")["id"] as? String ?? "")
    }
}
