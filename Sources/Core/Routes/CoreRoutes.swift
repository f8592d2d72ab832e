import Hummingbird

/// Registers all of Core's route collections.
public enum CoreRoutes {
    public static func register(_ routes: PluginRoutes, platform: Platform, providers: ProviderRegistry, pam: PAMSettings = PAMSettings()) {
        let open = routes.open, authenticated = routes.authenticated
        InstanceRoutes(platform: platform).register(login: routes.login, authenticated: authenticated)
        IdentityRoutes(platform: platform).register(authenticated: authenticated)
        ProjectRoutes(platform: platform).register(authenticated: authenticated)
        TokenRoutes(platform: platform).register(open: open, authenticated: authenticated)
        AuditRoutes(platform: platform).register(authenticated: authenticated)
        DynamicSecretRoutes(platform: platform, providers: providers).register(authenticated: authenticated)
        PAMAccessRoutes(platform: platform, providers: providers, settings: pam).register(authenticated: authenticated)
        PAMRequestRoutes(platform: platform, providers: providers, settings: pam).register(authenticated: authenticated)
    }
}
