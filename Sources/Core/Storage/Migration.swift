import Foundation
import Logging

/// One versioned schema change, owned by Core or a plugin. Statements must be portable between
/// SQLite and Postgres: use TEXT and BIGINT columns only.
public struct Migration: Sendable {
    /// Who owns the migration: `core` or a plugin name. Versions are ordered per owner.
    public let owner: String
    public let version: Int
    public let name: String
    public let statements: [String]
    /// The table prefix a plugin's statements must keep to; nil for Core.
    public let namespace: String?

    public init(owner: String, version: Int, name: String, statements: [String], namespace: String? = nil) {
        self.owner = owner
        self.version = version
        self.name = name
        self.statements = statements
        self.namespace = namespace
    }

    /// This migration, held to `prefix`.
    public func inNamespace(_ prefix: String) -> Migration {
        Migration(owner: owner, version: version, name: name, statements: statements, namespace: prefix)
    }

    /// The tables and indexes a statement creates, changes or drops.
    public static func objects(of statement: String) -> [String] {
        let words = statement.split(whereSeparator: { $0.isWhitespace || $0 == "(" }).map { $0.lowercased() }
        var names: [String] = []
        for (i, word) in words.enumerated() where ["table", "index"].contains(word) && i > 0 && ["create", "alter", "drop", "unique"].contains(words[i - 1]) {
            var j = i + 1
            while j < words.count, ["if", "not", "exists"].contains(words[j]) { j += 1 }
            if j < words.count { names.append(words[j]) }
            // An index names the table it is on, too.
            if word == "index", let on = words[(j + 1)...].firstIndex(of: "on"), on + 1 < words.count { names.append(words[on + 1]) }
        }
        return names
    }

    /// Throws when a statement reaches outside the namespace.
    func checkNamespace() throws {
        guard let namespace else { return }
        for statement in statements {
            for object in Self.objects(of: statement) where !object.hasPrefix(namespace) {
                throw StorageError.other("migration \(owner)/\(version) touches \(object), outside the plugin's namespace \(namespace)*")
            }
        }
    }
}

/// Applies migrations once each, in order per owner, under the database's migration lock so
/// that replicas starting together do not race.
public struct Migrator: Sendable {
    let database: any Database
    let logger: Logger

    public init(database: any Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Applies every pending migration and returns the ones applied now.
    @discardableResult
    public func migrate(_ migrations: [Migration]) async throws -> [Migration] {
        for migration in migrations { try migration.checkNamespace() }
        let owners = Dictionary(grouping: migrations, by: \.owner)
        for (owner, list) in owners {
            let versions = list.map(\.version)
            guard Set(versions).count == versions.count else {
                throw StorageError.other("duplicate migration versions for \(owner)")
            }
        }
        let logger = self.logger
        return try await database.withMigrationLock { db in
            try await db.query("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    owner TEXT NOT NULL, version BIGINT NOT NULL, name TEXT NOT NULL,
                    applied_at BIGINT NOT NULL, PRIMARY KEY (owner, version))
                """, [])
            let rows = try await db.query("SELECT owner, version FROM schema_migrations", [])
            var applied = Set<String>()
            for row in rows { applied.insert("\(try row.string("owner"))/\(try row.int("version"))") }
            var done: [Migration] = []
            let ordered = migrations.sorted { ($0.owner == "core" ? 0 : 1, $0.owner, $0.version) < ($1.owner == "core" ? 0 : 1, $1.owner, $1.version) }
            for migration in ordered where !applied.contains("\(migration.owner)/\(migration.version)") {
                for statement in migration.statements { try await db.query(statement, []) }
                try await db.query(
                    "INSERT INTO schema_migrations (owner, version, name, applied_at) VALUES ($1, $2, $3, $4)",
                    [.text(migration.owner), .int(Int64(migration.version)), .text(migration.name), DBValue(Date())])
                logger.info("applied migration", metadata: ["owner": "\(migration.owner)", "version": "\(migration.version)", "name": "\(migration.name)"])
                done.append(migration)
            }
            return done
        }
    }
}
