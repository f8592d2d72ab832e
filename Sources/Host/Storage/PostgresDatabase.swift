import Core
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The shared store for several replicas: a postgres-nio connection pool. Every operation has
/// a deadline, so an unreachable database answers 503 quickly instead of hanging requests.
final class PostgresDatabase: Database {
    let dialect = SQLDialect.postgres
    let client: PostgresClient
    let logger: Logger
    let deadline: Duration
    /// When the database last failed to answer. For a second after that, requests fail fast
    /// with 503 instead of queueing behind a pool that cannot connect.
    private let lastOutage = Mutex<ContinuousClock.Instant?>(nil)
    private static let outageHold: Duration = .seconds(1)

    init(url: String, logger: Logger, deadline: Duration = .seconds(3), maxConnections: Int = 20) throws {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
              let host = components.host, let user = components.user else {
            throw StorageError.other("KMS_DATABASE_URL must look like postgres://user:pass@host:port/db")
        }
        let database = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        // Without sslmode, no TLS, as before: `prefer` would add a handshake that authenticates
        // nothing (and can stall reconnects after a restart). Production sets verify-full.
        let sslmode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        let tls = try PostgresTLS.settings(sslmode: sslmode, rootCertFile: components.queryItems?.first { $0.name == "sslrootcert" }?.value, host: host)
        var config = PostgresClient.Configuration(host: host, port: components.port ?? 5432, username: user,
                                                  password: components.password?.removingPercentEncoding, database: database.isEmpty ? nil : database, tls: tls)
        config.options.maximumConnections = maxConnections
        config.options.connectTimeout = .seconds(3)
        // Every time a connection goes idle the pool schedules a keep-alive timer (and, above the
        // minimum, an idle timer) as a sleeping task, cancelled when it is leased again. On Linux
        // a cancelled sleep keeps its memory until its deadline: at thousands of queries a
        // second, 30 s keep-alives and 60 s idle timeouts held ~100,000 of them (RSS grew by
        // 80 MiB per 50,000 reaped leases). No keep-alive timers and 10 s idle timeouts keep
        // that memory small; and as no connection then stays idle longer than 10 s, none is
        // kept long enough for a firewall or NAT to drop it silently (which keep-alive queries
        // were there to find).
        config.options.keepAliveBehavior = nil
        config.options.minimumConnections = 0
        config.options.connectionIdleTimeout = .seconds(10)
        client = PostgresClient(configuration: config, backgroundLogger: logger)
        self.logger = logger
        self.deadline = deadline
    }

    /// Runs the pool; must run for the lifetime of the database (a ServiceGroup service).
    func run() async { await client.run() }

    @discardableResult
    func query(_ sql: String, _ binds: [DBValue]) async throws -> [DBRow] {
        try await withDeadline { try await Self.mapErrors { try await Self.collect(self.client.query(Self.query(sql, binds), logger: self.logger)) } }
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await withDeadline {
            try await Self.mapErrors {
                try await self.client.withConnection { connection in
                    try await Self.inTransaction(connection, logger: self.logger, body)
                }
            }
        }
    }

    func withMigrationLock<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await Self.mapErrors {
            try await self.client.withConnection { connection in
                try await Self.inTransaction(connection, logger: self.logger) { db in
                    // Transaction-scoped, so it is released even if this replica dies mid-migration.
                    try await db.query("SELECT pg_advisory_xact_lock(7243015526519)", [])
                    return try await body(db)
                }
            }
        }
    }

    func ping() async throws { try await query("SELECT 1", []) }

    /// The pool closes when its `run()` task is cancelled.
    func close() async throws {}

    private static func inTransaction<T: Sendable>(_ connection: PostgresConnection, logger: Logger,
                                                   _ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        let executor = Executor(connection: connection, logger: logger)
        try await executor.query("BEGIN", [])
        do {
            let result = try await body(executor)
            try await executor.query("COMMIT", [])
            return result
        } catch {
            _ = try? await executor.query("ROLLBACK", [])
            throw error
        }
    }

    private func withDeadline<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let now = ContinuousClock.now
        if let last = lastOutage.withLock({ $0 }), now - last < Self.outageHold {
            throw StorageError.unavailable("database unavailable (recent failure)")
        }
        do {
            return try await runWithDeadline(body)
        } catch let error as StorageError {
            if case .unavailable = error { lastOutage.withLock { $0 = ContinuousClock.now } }
            throw error
        }
    }

    private func runWithDeadline<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let deadline = self.deadline
        return try await raceDeadline(deadline, timeout: { StorageError.unavailable("no answer within \(deadline)") }, body)
    }

    static func query(_ sql: String, _ binds: [DBValue]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: binds.count)
        for bind in binds {
            switch bind {
            case .null: bindings.appendNull()
            case .int(let i): bindings.append(i)
            case .text(let s): bindings.append(s)
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    static func collect(_ rows: PostgresRowSequence) async throws -> [DBRow] {
        try await mapErrors {
            var out: [DBRow] = []
            for try await row in rows {
                var values: [String: DBValue] = [:]
                for cell in row {
                    if cell.bytes == nil { values[cell.columnName] = .null; continue }
                    switch cell.dataType {
                    case .int2, .int4, .int8: values[cell.columnName] = .int(try cell.decode(Int64.self))
                    case .bool: values[cell.columnName] = .int(try cell.decode(Bool.self) ? 1 : 0)
                    default: values[cell.columnName] = .text(try cell.decode(String.self))
                    }
                }
                out.append(DBRow(values))
            }
            return out
        }
    }

    static func mapErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PSQLError {
            if error.code == .server {
                let state = error.serverInfo?[.sqlState] ?? ""
                let message = error.serverInfo?[.message] ?? "server error"
                if state == "23505" { throw StorageError.uniqueViolation(message) }
                // Class 22: data exceptions caused by the values a client sent.
                if state.hasPrefix("22") { throw StorageError.invalidInput(message) }
                // 57P01..57P03: admin shutdown, crash shutdown, cannot connect now; 08xxx: connection.
                if state.hasPrefix("57P") || state.hasPrefix("08") { throw StorageError.unavailable(message) }
                throw StorageError.other("\(state): \(message)")
            }
            throw StorageError.unavailable("\(error.code)")
        }
    }

    struct Executor: SQLExecutor {
        let connection: PostgresConnection
        let logger: Logger
        var dialect: SQLDialect { .postgres }

        @discardableResult
        func query(_ sql: String, _ binds: [DBValue]) async throws -> [DBRow] {
            try await mapErrors {
                try await collect(connection.query(PostgresDatabase.query(sql, binds), logger: logger))
            }
        }
    }
}
