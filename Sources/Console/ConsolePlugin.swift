import Core
import Foundation
import Hummingbird
import Logging
import Mustache
import ServiceLifecycle

/// The web console: server-rendered pages at `/` (the API stays under `/api`), acting through the
/// API as the signed-in person. Settings: `KMS_CONSOLE_IDLE_TIMEOUT_SECONDS` (default 1800) and
/// `KMS_CONSOLE_SESSION_SECONDS` (default 28800, at most the user token's 8 hours).
public struct ConsolePlugin: KMSPlugin {
    public let name = "console"
    public init() {}

    public var migrations: [Migration] { ConsoleMigrations.all(owner: name) }

    public func register(_ context: PluginContext) throws {
        let timeouts = try Self.timeouts(context.settings)
        let app = ConsoleApp(platform: context.platform, api: context.api, providers: context.providers,
                             sessions: ConsoleSessionStore(platform: context.platform, timeouts: timeouts),
                             templates: try ConsoleTemplates.library(), secureCookies: context.platform.publicURL.lowercased().hasPrefix("https://"))
        ConsoleRoutes(app: app).register(context.routes.open.group().add(middleware: ConsoleErrorMiddleware(app: app)))
    }

    static func timeouts(_ settings: PluginSettings) throws -> SessionTimeouts {
        SessionTimeouts(idle: try settings.seconds("KMS_CONSOLE_IDLE_TIMEOUT_SECONDS", default: 1800, range: 60...86_400),
                        absolute: try settings.seconds("KMS_CONSOLE_SESSION_SECONDS", default: 28_800, range: 300...28_800))
    }

    public func services(_ context: PluginServiceContext) throws -> [any Service] {
        [SessionSweeper(store: ConsoleSessionStore(platform: context.platform, timeouts: try Self.timeouts(context.settings)), logger: context.logger)]
    }
}

/// Deletes ended sessions every 10 minutes (a session past its end is refused when read anyway).
struct SessionSweeper: Service {
    let store: ConsoleSessionStore
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(600))
                do { try await store.sweep() } catch { logger.warning("console session sweep failed", metadata: ["error": "\(error)"]) }
            }
        }
    }
}

/// The templates compiled into the binary.
enum ConsoleTemplates {
    static let sources: [String: [UInt8]] = [
        "layout": PackageResources.layout_mustache, "login": PackageResources.login_mustache, "projects": PackageResources.projects_mustache,
        "members": PackageResources.members_mustache, "identities": PackageResources.identities_mustache, "identity": PackageResources.identity_mustache,
        "reveal": PackageResources.reveal_mustache, "overview": PackageResources.overview_mustache, "dynamic-new": PackageResources.dynamic_new_mustache,
        "dynamic": PackageResources.dynamic_mustache, "pam": PackageResources.pam_mustache, "pam-open": PackageResources.pam_open_mustache,
        "audit": PackageResources.audit_mustache, "error": PackageResources.error_mustache, "fields": PackageResources.fields_mustache,
    ]

    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, bytes) in sources { try library.register(String(decoding: bytes, as: UTF8.self), named: name) }
        return library
    }
}
