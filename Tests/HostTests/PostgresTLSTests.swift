import Core
import Foundation
import Testing
@testable import Host

/// Issue 10, item 10: libpq's sslmode meanings, against the test server, which `make test`
/// starts with TLS on and a certificate for `localhost` signed by a throw-away CA.
@Suite("Postgres sslmode", .serialized)
struct PostgresTLSTests {
    static func certs() throws -> (ca: String, otherCA: String, url: URLComponents) {
        let env = ProcessInfo.processInfo.environment
        guard let ca = env["KMS_TEST_POSTGRES_CA"], let other = env["KMS_TEST_OTHER_CA"] else {
            throw TestFailure("KMS_TEST_POSTGRES_CA is not set: run the suite with `make test`, which starts Postgres with TLS")
        }
        return (ca, other, URLComponents(string: try TestSupport.postgresURL())!)
    }

    /// Connects with `host` and the query items, and runs one query.
    static func connect(host: String, _ items: [String: String]) async throws {
        var url = try certs().url
        url.host = host
        url.queryItems = items.map { URLQueryItem(name: $0.key, value: $0.value) }
        let db = try PostgresDatabase(url: url.string!, logger: TestSupport.logger, deadline: .seconds(5), maxConnections: 1)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await db.run() }
            defer { group.cancelAll() }
            let row = try await db.first("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", [])
            guard try row?.bool("ssl") == true else { throw TestFailure("the connection is not encrypted") }
        }
    }

    @Test func verifyFullChecksTheChainAndTheName() async throws {
        let (ca, otherCA, _) = try Self.certs()
        try await Self.connect(host: "localhost", ["sslmode": "verify-full", "sslrootcert": ca])
        await #expect(throws: (any Error).self, "a chain from another CA") {
            try await Self.connect(host: "localhost", ["sslmode": "verify-full", "sslrootcert": otherCA])
        }
        await #expect(throws: (any Error).self, "the system roots do not know the test CA") {
            try await Self.connect(host: "localhost", ["sslmode": "verify-full", "sslrootcert": "system"])
        }
        #expect(throws: (any Error).self, "as in libpq, verifying needs a root") {
            _ = try PostgresTLS.settings(sslmode: "verify-full", rootCertFile: nil, host: "localhost")
        }
        #expect(throws: (any Error).self, "an IP address cannot be name-checked") {
            _ = try PostgresTLS.settings(sslmode: "verify-full", rootCertFile: ca, host: "127.0.0.1")
        }
    }

    @Test func verifyCAChecksTheChainOnly() async throws {
        let (ca, otherCA, _) = try Self.certs()
        // 127.0.0.1 is not the certificate's name, which verify-ca does not check.
        try await Self.connect(host: "127.0.0.1", ["sslmode": "verify-ca", "sslrootcert": ca])
        await #expect(throws: (any Error).self) { try await Self.connect(host: "127.0.0.1", ["sslmode": "verify-ca", "sslrootcert": otherCA]) }
        #expect(throws: (any Error).self, "no root, or the system's, would accept any public certificate") {
            _ = try PostgresTLS.settings(sslmode: "verify-ca", rootCertFile: nil, host: "db")
        }
        #expect(throws: (any Error).self) { _ = try PostgresTLS.settings(sslmode: "verify-ca", rootCertFile: "system", host: "db") }
    }

    @Test func requireEncryptsWithoutVerifyingUnlessARootIsGiven() async throws {
        let (_, otherCA, _) = try Self.certs()
        try await Self.connect(host: "127.0.0.1", ["sslmode": "require"])
        try await Self.connect(host: "127.0.0.1", ["sslmode": "prefer"])  // TLS when offered
        await #expect(throws: (any Error).self, "with sslrootcert, require verifies the chain as libpq does") {
            try await Self.connect(host: "127.0.0.1", ["sslmode": "require", "sslrootcert": otherCA])
        }
        #expect(throws: (any Error).self) { _ = try PostgresTLS.settings(sslmode: "verify-fully", rootCertFile: nil, host: "db") }
    }
}
