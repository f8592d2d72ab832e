import Core
import Foundation
import Logging
import SQLiteNIO

/// The embedded default store: one SQLite file in WAL mode behind a single connection, with
/// statements and transactions serialised by an async lock.
final class SQLiteDatabase: Database {
    let dialect = SQLDialect.sqlite
    private let connection: SQLiteConnection
    private let lock = AsyncLock()

    private init(connection: SQLiteConnection) { self.connection = connection }

    /// Opens (creating if needed) the database file at `path`.
    static func open(path: String, logger: Logger) async throws -> SQLiteDatabase {
        // SQLite gives the WAL and shared-memory files the database file's mode, so creating
        // the database 0600 first keeps all three private even in an existing, looser directory.
        try PrivateFile.ensure(path)
        try PrivateFile.tighten(path + "-wal")
        try PrivateFile.tighten(path + "-shm")
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let db = SQLiteDatabase(connection: connection)
        for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 5000", "PRAGMA synchronous = NORMAL"] {
            _ = try await Executor(connection: connection).query(pragma, [])
        }
        return db
    }

    func close() async throws { try await connection.close() }

    @discardableResult
    func query(_ sql: String, _ binds: [DBValue]) async throws -> [DBRow] {
        try await lock.withLock { try await Executor(connection: connection).query(sql, binds) }
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await lock.withLock {
            let executor = Executor(connection: connection)
            try await executor.query("BEGIN IMMEDIATE", [])
            do {
                let result = try await body(executor)
                try await executor.query("COMMIT", [])
                return result
            } catch {
                _ = try? await executor.query("ROLLBACK", [])
                throw error
            }
        }
    }

    func withMigrationLock<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await transaction(body)
    }

    func ping() async throws { try await query("SELECT 1", []) }

    /// Runs statements on the connection without taking the lock (the caller holds it).
    struct Executor: SQLExecutor {
        let connection: SQLiteConnection
        var dialect: SQLDialect { .sqlite }

        @discardableResult
        func query(_ sql: String, _ binds: [DBValue]) async throws -> [DBRow] {
            let data: [SQLiteData] = binds.map {
                switch $0 {
                case .null: .null
                case .int(let i): .integer(SQLiteInt64(i))
                case .text(let s): .text(s)
                }
            }
            do {
                let rows = try await connection.query(Self.positional(sql), data)
                return rows.map { row in
                    var values: [String: DBValue] = [:]
                    for column in row.columns {
                        switch column.data {
                        case .integer(let i): values[column.name] = .int(Int64(i))
                        case .text(let s): values[column.name] = .text(s)
                        case .float(let d): values[column.name] = .int(Int64(d))
                        case .blob(let b): values[column.name] = .text(String(buffer: b))
                        case .null: values[column.name] = .null
                        }
                    }
                    return DBRow(values)
                }
            } catch let error as SQLiteError {
                if error.message.contains("UNIQUE constraint failed") || error.message.contains("PRIMARY KEY") {
                    throw StorageError.uniqueViolation(error.message)
                }
                if error.reason == .busy || error.reason == .locked { throw StorageError.unavailable(error.message) }
                throw StorageError.other(error.message)
            }
        }

        /// Rewrites `$n` placeholders as SQLite's `?n`, which bind by explicit index.
        static func positional(_ sql: String) -> String {
            var out = ""
            out.reserveCapacity(sql.utf8.count)
            var previous: Character = " "
            for ch in sql {
                out.append(ch == "$" && previous != "'" ? "?" : ch)
                previous = ch
            }
            return out
        }
    }
}
