import Hummingbird

/// Registers all of Core's route collections.
public enum CoreRoutes {
    public static func register(open: RouterGroup<KMSRequestContext>, authenticated: RouterGroup<KMSRequestContext>, platform: Platform,
                                providers: ProviderRegistry) {
        InstanceRoutes(platform: platform).register(open: open, authenticated: authenticated)
        IdentityRoutes(platform: platform).register(authenticated: authenticated)
        ProjectRoutes(platform: platform).register(authenticated: authenticated)
        TokenRoutes(platform: platform).register(open: open, authenticated: authenticated)
        AuditRoutes(platform: platform).register(authenticated: authenticated)
        DynamicSecretRoutes(platform: platform, providers: providers).register(authenticated: authenticated)
    }
}
