import Hummingbird
import ServiceLifecycle

/// The route groups a plugin may add routes to.
public struct PluginRoutes {
    /// Routes reachable without a token.
    public let open: RouterGroup<KMSRequestContext>
    /// Login routes: reachable without a token, under the login rate limits.
    public let login: RouterGroup<KMSRequestContext>
    /// Routes behind bearer-token authentication.
    public let authenticated: RouterGroup<KMSRequestContext>

    public init(open: RouterGroup<KMSRequestContext>, login: RouterGroup<KMSRequestContext>, authenticated: RouterGroup<KMSRequestContext>) {
        self.open = open
        self.login = login
        self.authenticated = authenticated
    }
}

/// A capability the host registers at start-up: its migrations, routes, providers and
/// background services. Adding one is a folder plus one line in the host's plugin list.
public protocol KMSPlugin: Sendable {
    /// A stable name, also the owner of the plugin's migrations.
    var name: String { get }
    /// The plugin's storage namespace: every table (and index) its migrations create or change
    /// starts with this prefix; the migrator refuses any other.
    var tablePrefix: String { get }
    /// The plugin's schema changes, applied after Core's.
    var migrations: [Migration] { get }
    /// The OpenAPI path items of the plugin's routes, keyed by path.
    var openAPIPaths: [String: String] { get }
    /// Adds the plugin's routes and providers. Throws for settings it cannot use.
    func register(_ context: PluginContext) throws
    /// Long-running work (reapers, expiry jobs) run beside the server.
    func services(_ context: PluginServiceContext) throws -> [any Service]
}

extension KMSPlugin {
    public var tablePrefix: String { name.replacingOccurrences(of: "-", with: "_") + "_" }
    public var migrations: [Migration] { [] }
    public var openAPIPaths: [String: String] { [:] }
    public func services(_ context: PluginServiceContext) throws -> [any Service] { [] }
}
