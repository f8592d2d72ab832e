import AWSKit
import AsyncHTTPClient
import Core
import Foundation
import Logging
import Prometheus
import ServiceLifecycle

/// The opened storage and the platform built on it, shared by `serve`, `migrate` and `bootstrap`.
struct Runtime {
    let config: KMSConfig
    let database: any Database
    let postgres: PostgresDatabase?
    let platform: Platform
    let builder: ServerBuilder
    let logger: Logger

    /// The process's one HTTP client (redirects off). It lives as long as the process; the
    /// server's lifecycle (or ``close()`` after a one-shot command) shuts it down.
    static let httpClient = AWSQueryClient.makeHTTPClient()

    /// Settings that are the host's alone (the root key, the database and its password, the
    /// bootstrap password): never handed to plugins.
    static let hostOnlySettings: Set<String> = ["KMS_ENCRYPTION_KEY", "KMS_ENCRYPTION_KEY_FILE", "KMS_ENCRYPTION_KEY_PREVIOUS", "KMS_DATABASE_URL",
                                                "KMS_BOOTSTRAP_PASSWORD", "KMS_PASSWORD", "KMS_TOKEN"]

    static func open(config: KMSConfig, logger: Logger, metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) async throws -> Runtime {
        // Whatever this process creates (store, key, logs it may write) is owner-only.
        umask(0o077)
        let sealer = try KeyLoader.sealer(config: config)
        let database: any Database
        var postgres: PostgresDatabase?
        if let url = config.databaseURL {
            guard config.usesPostgres else { throw ConfigError("KMS_DATABASE_URL must start with postgres:// (leave it unset for the embedded store)") }
            let pg = try PostgresDatabase(url: url, logger: logger)
            postgres = pg
            database = pg
        } else {
            try PrivateFile.directory(config.dataDir)
            database = try await SQLiteDatabase.open(path: URL(fileURLWithPath: config.dataDir).appendingPathComponent("kms.sqlite").path, logger: logger)
        }
        let platform = Platform(database: database, sealer: sealer, logger: logger, publicURL: config.effectivePublicURL,
                                ambientAWS: AmbientAWSPolicy(allowed: config.ambientAWSOrgs),
                                failureBudget: FailureAuditBudget(perWindow: 4 * config.auditFailuresPerSource, perSource: config.auditFailuresPerSource))
        let builder = ServerBuilder(platform: platform, trustedProxies: config.trustedProxies, metrics: metrics,
                                    settings: PluginSettings(config.settings.filter { !Self.hostOnlySettings.contains($0.key) }), httpClient: Self.httpClient)
        return Runtime(config: config, database: database, postgres: postgres, platform: platform, builder: builder, logger: logger)
    }

    func migrate() async throws -> [Migration] {
        try builder.checkNamespaces()
        return try await Migrator(database: database, logger: logger).migrate(builder.migrations)
    }

    /// Runs `body` with the Postgres pool running (for one-shot commands).
    func withStorage<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let postgres else {
            do {
                let result = try await body()
                await close()
                return result
            } catch {
                await close()
                throw error
            }
        }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { await postgres.run(); return nil }
            defer { group.cancelAll() }
            let result = try await body()
            return result
        }
    }

    /// Closes the storage (the embedded store must be closed before the process exits) and the
    /// HTTP client, unless the server's lifecycle already shut it down.
    func close() async {
        do { try await database.close() } catch { logger.warning("closing storage failed", metadata: ["error": "\(error)"]) }
        try? await builder.httpClient.shutdown()
    }

    /// The Postgres pool as a service that stops when the server shuts down.
    var storageServices: [any Service] {
        guard let postgres else { return [] }
        return [PostgresPoolService(database: postgres), TokenCacheListener(database: postgres, cache: platform.tokens.cache, logger: logger)]
    }
}

struct PostgresPoolService: Service {
    let database: PostgresDatabase
    func run() async throws { await cancelWhenGracefulShutdown { await database.run() } }
}
