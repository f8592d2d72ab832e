import Core

/// Universal Auth (Infisical's): an identity logs in with a client id and a client secret. The
/// plugin adds its config part, its client secrets and its login; Core serves the config
/// routes, issues tokens and locks out repeated failures.
public struct AuthUniversalPlugin: KMSPlugin, AuthProvider {
    public init() {}

    public var name: String { "auth-universal" }
    public var method: String { UniversalAuthProvider().method }
    public var tablePrefix: String { "universal_auth_" }
    public var migrations: [Migration] { UniversalAuthMigrations.all(owner: name) }
    public var openAPIPaths: [String: String] { UniversalAuthOpenAPI.paths }

    public func register(_ context: PluginContext) {
        context.providers.register(auth: self)
        context.providers.register(consoleForm: UniversalAuthConsoleForm.form)
        UniversalAuthRoutes(platform: context.platform).register(context.routes)
    }
}
