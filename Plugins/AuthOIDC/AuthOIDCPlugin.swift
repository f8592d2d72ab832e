import Core

/// OIDC Auth (Infisical's): a workload logs in with a JWT its platform issued (a CI system's
/// OIDC token, a Kubernetes service-account token), verified against the issuer's published
/// keys and the claims the config binds.
///
/// Setting: `KMS_OIDC_ALLOWED_HOSTS`, comma-separated hosts or ranges that discovery URLs may
/// name although they are internal (loopback, private, link-local); none by default.
/// `KMS_OIDC_JWKS_MAX_AGE_SECONDS` (600): how long fetched keys are used before they are fetched
/// again; `KMS_OIDC_JWKS_MIN_REFRESH_SECONDS` (60): the least time between two fetches of one
/// issuer's keys, whatever tokens arrive.
public struct AuthOIDCPlugin: KMSPlugin, AuthProvider {
    public init() {}

    public var name: String { "auth-oidc" }
    public var method: String { "oidc-auth" }
    public var tablePrefix: String { "oidc_auth_" }
    public var migrations: [Migration] { OIDCAuthMigrations.all(owner: name) }
    public var openAPIPaths: [String: String] { OIDCAuthOpenAPI.paths }

    public func register(_ context: PluginContext) throws {
        let egress = EgressPolicy(allowList: context.settings["KMS_OIDC_ALLOWED_HOSTS"], settingName: "KMS_OIDC_ALLOWED_HOSTS")
        let keys = OIDCKeySource(egress: egress, clock: context.platform.clock, logger: context.logger,
                                 maxAge: try context.settings.seconds("KMS_OIDC_JWKS_MAX_AGE_SECONDS", default: 600, range: 10...86_400),
                                 minRefreshInterval: try context.settings.seconds("KMS_OIDC_JWKS_MIN_REFRESH_SECONDS", default: 60, range: 1...3600))
        context.providers.register(auth: self)
        context.providers.register(consoleForm: OIDCAuthConsoleForm.form)
        OIDCAuthRoutes(platform: context.platform, provider: OIDCAuthProvider(egress: egress), verifier: OIDCTokenVerifier(keys: keys))
            .register(context.routes)
    }
}
