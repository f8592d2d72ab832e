import AsyncHTTPClient
import Core
import Foundation
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// Assembles the router from Core's routes and every plugin's, with the middleware stack:
/// metrics, request log, error mapping, client address; authentication on the private group.
struct ServerBuilder {
    let platform: Platform
    let plugins: [any KMSPlugin]
    let registry: ProviderRegistry
    let trustedProxies: [IPRange]
    let metrics: PrometheusCollectorRegistry
    /// The merged config-file and environment settings handed to plugins.
    let settings: PluginSettings
    /// The process's one HTTP client, shut down by ``HTTPClientService`` with the server.
    let httpClient: HTTPClient

    init(platform: Platform, plugins: [any KMSPlugin] = PluginList.all, trustedProxies: [IPRange] = [],
         metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), settings: PluginSettings, httpClient: HTTPClient) {
        self.platform = platform
        self.plugins = plugins
        self.registry = ProviderRegistry()
        self.trustedProxies = trustedProxies
        self.metrics = metrics
        self.settings = settings
        self.httpClient = httpClient
    }

    /// Every migration: Core's first, then each plugin's, held to the plugin's table prefix.
    var migrations: [Migration] { CoreMigrations.all + plugins.flatMap { p in p.migrations.map { $0.inNamespace(p.tablePrefix) } } }

    /// Refuses plugin namespaces that could collide: each prefix is lower-case letters, digits
    /// and underscores ending in `_`, none is a prefix of another, and none covers a Core table.
    func checkNamespaces() throws { try Self.checkNamespaces(plugins) }

    static func checkNamespaces(_ plugins: [any KMSPlugin]) throws {
        let coreTables = Set(CoreMigrations.all.flatMap { $0.statements.flatMap(Migration.objects(of:)) })
        for plugin in plugins {
            let prefix = plugin.tablePrefix
            guard prefix.count >= 3, prefix.hasSuffix("_"), let first = prefix.first, first.isLetter,
                  prefix.allSatisfy({ ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "_" }) else {
                throw ConfigError("plugin \(plugin.name): table prefix '\(prefix)' must be lower-case letters, digits and _ and end in _")
            }
            if let core = coreTables.first(where: { $0.hasPrefix(prefix) }) {
                throw ConfigError("plugin \(plugin.name): table prefix '\(prefix)' covers Core's table \(core)")
            }
            if let other = plugins.first(where: { $0.name != plugin.name && $0.tablePrefix.hasPrefix(prefix) }) {
                throw ConfigError("plugins \(plugin.name) and \(other.name) have overlapping table prefixes")
            }
        }
    }

    func logger(for plugin: any KMSPlugin) -> Logger {
        var logger = platform.logger
        logger[metadataKey: "plugin"] = .string(plugin.name)
        return logger
    }

    func buildRouter() throws -> Router<KMSRequestContext> {
        try checkNamespaces()
        let router = Router(context: KMSRequestContext.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: LogRequestsMiddleware(.info))
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: ClientAddressMiddleware(trustedProxies: trustedProxies))
        let open = router.group()
        let login = router.group().add(middleware: LoginRateLimitMiddleware(limiter: try loginLimiter()))
        let authenticated = router.group().add(middleware: AuthenticationMiddleware(tokens: platform.tokens, tenants: platform.tenants))
        OperationsRoutes(database: platform.database, metrics: metrics, openAPI: OpenAPIDocument.json(plugins: plugins)).register(open: open)
        let routes = PluginRoutes(open: open, login: login, authenticated: authenticated)
        let api = InProcessAPI()
        CoreRoutes.register(routes, platform: platform, providers: registry, pam: try pamSettings())
        for plugin in plugins {
            try plugin.register(PluginContext(platform: platform, routes: routes, providers: registry, settings: settings,
                                              logger: logger(for: plugin), httpClient: httpClient, api: api))
        }
        api.bind(router.buildResponder())
        return router
    }

    /// The login routes' rate limits (requests per second and bursts), from the settings.
    func loginLimiter() throws -> LoginRateLimiter {
        do {
            return try LoginRateLimiter(perClientRate: try settings.number("KMS_LOGIN_RATE_PER_CLIENT", default: 10),
                                        perClientBurst: try settings.number("KMS_LOGIN_BURST_PER_CLIENT", default: 50),
                                        globalRate: try settings.number("KMS_LOGIN_RATE", default: 200), globalBurst: try settings.number("KMS_LOGIN_BURST", default: 400))
        } catch let error as APIError {
            throw PluginSettingError(key: "KMS_LOGIN_RATE*/KMS_LOGIN_BURST*", message: error.message)
        }
    }

    /// Just-in-time PAM's settings.
    func pamSettings() throws -> PAMSettings {
        PAMSettings(revocationRetention: try settings.seconds("KMS_PAM_REVOCATION_RETENTION_SECONDS", default: 3900, range: 1...86_400),
                    webhookEgress: EgressPolicy(allowList: settings["KMS_PAM_WEBHOOK_ALLOWED_HOSTS"], settingName: "KMS_PAM_WEBHOOK_ALLOWED_HOSTS"))
    }

    /// Background services: the lease reaper, each plugin's, and the HTTP client's shutdown.
    func services() throws -> [any Service] {
        let interval = try settings.seconds("KMS_LEASE_REAPER_INTERVAL", default: 5, range: 0.1...3600)
        let grace = try settings.seconds("KMS_LEASE_CREATING_GRACE", default: 300, range: 1...86_400)
        let pamExpiry = try settings.seconds("KMS_PAM_EXPIRY_INTERVAL", default: 10, range: 0.1...3600)
        let pam = try pamSettings()
        // Services stop in the reverse of this order: the HTTP client, first here, stops last,
        // after every service that may still call out.
        var services: [any Service] = [HTTPClientService(client: httpClient),
                                       LeaseReaper(platform: platform, providers: registry, interval: .milliseconds(Int(interval * 1000)), creatingGrace: grace),
                                       PAMSessionExpiry(platform: platform, providers: registry, settings: pam,
                                                        interval: .milliseconds(Int(pamExpiry * 1000))),
                                       PAMNotifier(platform: platform, egress: pam.webhookEgress, interval: .milliseconds(Int(min(pamExpiry, 2) * 1000))),
                                       LoginLockoutJanitor(platform: platform)]
        for plugin in plugins {
            services += try plugin.services(PluginServiceContext(platform: platform, settings: settings, logger: logger(for: plugin), httpClient: httpClient))
        }
        return services
    }
}

/// Keeps the shared HTTP client for the server's lifetime and shuts it down when the service
/// group stops it (last, as it is listed first).
struct HTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
