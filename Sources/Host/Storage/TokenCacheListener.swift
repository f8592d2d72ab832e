import Core
import Logging
import PostgresNIO
import ServiceLifecycle

/// Keeps a LISTEN connection open so that every replica clears its token cache when any
/// replica revokes or changes a token. While the connection is down the cache is off, so a
/// missed notification can never leave a revoked token usable.
struct TokenCacheListener: Service {
    let database: PostgresDatabase
    let cache: TokenCache
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await database.client.withConnection { connection in
                        try await connection.listen(on: TokenCache.channel) { notifications in
                            cache.setEnabled(true)
                            for try await _ in notifications { cache.invalidateAll() }
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
                    logger.warning("token cache listener lost its connection; cache off until it returns", metadata: ["error": "\(String(describing: type(of: error)))"])
                }
                cache.setEnabled(false)
                try? await Task.sleep(for: .seconds(1))
            }
            cache.setEnabled(false)
        }
    }
}
