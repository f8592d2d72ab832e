import Core
import Foundation
import Hummingbird
import Metrics

/// Token Auth: an org admin mints access tokens for an identity directly, under the token
/// settings attached to the identity (Infisical's `token-auth`). Useful where no cloud identity
/// exists, and the smallest example of an auth provider.
public struct AuthTokenPlugin: KMSPlugin, AuthProvider {
    public init() {}
    public var name: String { "auth-token" }
    public var tablePrefix: String { "token_auth_" }
    public var method: String { "token-auth" }

    public var migrations: [Migration] {
        [Migration(owner: name, version: 1, name: "token auth configs", statements: [
            """
            CREATE TABLE token_auth_configs (id TEXT PRIMARY KEY, identity_id TEXT NOT NULL UNIQUE REFERENCES identities(id) ON DELETE CASCADE,
                org_id TEXT NOT NULL, ttl BIGINT NOT NULL, max_ttl BIGINT NOT NULL, num_uses_limit BIGINT NOT NULL,
                trusted_ips TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
        ])]
    }

    public var openAPIPaths: [String: String] { TokenAuthOpenAPI.paths }

    public func register(_ context: PluginContext) {
        context.providers.register(auth: self)
        context.providers.register(consoleForm: TokenAuthConsoleForm.form)
        TokenAuthRoutes(platform: context.platform).register(context.routes.authenticated)
    }
}
