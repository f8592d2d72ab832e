import Core

/// The PAMAWSConsole capability. Its providers and routes arrive with their own issue; the plugin is
/// registered now so the host's wiring and migrations are in place.
public struct PAMAWSConsolePlugin: KMSPlugin {
    public init() {}
    public var name: String { "pamawsconsole" }
    public func register(routes: PluginRoutes, providers: ProviderRegistry, platform: Platform) {}
}
