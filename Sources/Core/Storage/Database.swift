/// The SQL dialect a driver speaks. Statements are written once with `$1`-style placeholders;
/// the few differences (row locks) are asked of the dialect.
public enum SQLDialect: String, Sendable {
    case sqlite
    case postgres

    /// ` FOR UPDATE` on Postgres; SQLite serialises writers, so nothing there.
    public var forUpdate: String { self == .postgres ? " FOR UPDATE" : "" }
    /// ` FOR UPDATE SKIP LOCKED` on Postgres, so replicas claim disjoint rows.
    public var forUpdateSkipLocked: String { self == .postgres ? " FOR UPDATE SKIP LOCKED" : "" }
    /// ` FOR SHARE` on Postgres: readers hold the row against concurrent change or deletion.
    public var forShare: String { self == .postgres ? " FOR SHARE" : "" }
}

/// Failures of the storage layer, with stable cases that map to API errors.
public enum StorageError: Error, Sendable, CustomStringConvertible {
    /// The database cannot be reached or did not answer in time.
    case unavailable(String)
    /// A unique constraint was violated.
    case uniqueViolation(String)
    /// The database refused a value (a NUL byte in text, a number out of range).
    case invalidInput(String)
    /// A row could not be decoded into the expected shape.
    case decoding(String)
    /// Any other database error.
    case other(String)

    public var description: String {
        switch self {
        case .unavailable(let m): "database unavailable: \(m)"
        case .uniqueViolation(let m): "unique violation: \(m)"
        case .invalidInput(let m): "invalid input: \(m)"
        case .decoding(let m): "row decoding failed: \(m)"
        case .other(let m): "database error: \(m)"
        }
    }
}

/// Runs statements. Both a pooled database and a connection inside a transaction are executors.
public protocol SQLExecutor: Sendable {
    /// The dialect of the underlying driver.
    var dialect: SQLDialect { get }
    /// Runs one statement with `$n` placeholders bound to `binds`, returning its rows.
    @discardableResult
    func query(_ sql: String, _ binds: [DBValue]) async throws -> [DBRow]
}

extension SQLExecutor {
    /// Runs a statement and returns its first row, if any.
    public func first(_ sql: String, _ binds: [DBValue]) async throws -> DBRow? {
        try await query(sql, binds).first
    }
}

/// The storage protocol every driver implements.
public protocol Database: SQLExecutor {
    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T
    /// Runs `body` while holding the instance-wide migration lock (an advisory lock on Postgres).
    func withMigrationLock<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T
    /// A cheap round trip that proves the database answers.
    func ping() async throws
    /// Releases the driver's resources; no call may follow.
    func close() async throws
}
