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

    init(platform: Platform, plugins: [any KMSPlugin] = PluginList.all, trustedProxies: [IPRange] = [],
         metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.platform = platform
        self.plugins = plugins
        self.registry = ProviderRegistry()
        self.trustedProxies = trustedProxies
        self.metrics = metrics
    }

    /// Every migration: Core's first, then each plugin's.
    var migrations: [Migration] { CoreMigrations.all + plugins.flatMap(\.migrations) }

    func buildRouter() -> Router<KMSRequestContext> {
        let router = Router(context: KMSRequestContext.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: LogRequestsMiddleware(.info))
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: ClientAddressMiddleware(trustedProxies: trustedProxies))
        let open = router.group()
        let authenticated = router.group().add(middleware: AuthenticationMiddleware(tokens: platform.tokens, tenants: platform.tenants))
        OperationsRoutes(database: platform.database, metrics: metrics, openAPI: OpenAPIDocument.json(plugins: plugins)).register(open: open)
        CoreRoutes.register(open: open, authenticated: authenticated, platform: platform, providers: registry)
        let routes = PluginRoutes(open: open, authenticated: authenticated)
        for plugin in plugins { plugin.register(routes: routes, providers: registry, platform: platform) }
        return router
    }

    /// Background services of the plugins.
    var services: [any Service] {
        let interval = ProcessInfo.processInfo.environment["KMS_LEASE_REAPER_INTERVAL"].flatMap(Double.init) ?? 5
        let grace = ProcessInfo.processInfo.environment["KMS_LEASE_CREATING_GRACE"].flatMap(Double.init) ?? 300
        return [LeaseReaper(platform: platform, providers: registry, interval: .milliseconds(Int(interval * 1000)), creatingGrace: grace)]
            + plugins.flatMap { $0.services(platform: platform) }
    }
}
