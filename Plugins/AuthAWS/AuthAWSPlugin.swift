import AWSKit
import AsyncHTTPClient
import Core
import Foundation

/// AWS Auth: machine identities log in by proving their AWS identity with a signed STS
/// GetCallerIdentity request, which the server forwards to STS under strict rules.
public struct AuthAWSPlugin: KMSPlugin, AuthProvider {
    let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) { self.environment = environment }

    public var name: String { "auth-aws" }
    public var method: String { AWSAuthRoutes.method }

    public var migrations: [Migration] {
        [Migration(owner: name, version: 1, name: "aws auth configs", statements: [
            """
            CREATE TABLE aws_auth_configs (id TEXT PRIMARY KEY, identity_id TEXT NOT NULL UNIQUE REFERENCES identities(id) ON DELETE CASCADE,
                org_id TEXT NOT NULL, sts_endpoint TEXT NOT NULL, allowed_principal_arns TEXT NOT NULL, allowed_account_ids TEXT NOT NULL,
                server_id_header TEXT, ttl BIGINT NOT NULL, max_ttl BIGINT NOT NULL, num_uses_limit BIGINT NOT NULL, trusted_ips TEXT NOT NULL,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
        ])]
    }

    public var openAPIPaths: [String: String] { AWSAuthOpenAPI.paths }

    /// The login forwarder's HTTP client: never follows redirects.
    static let httpClient = AWSQueryClient.makeHTTPClient()

    public func register(routes: PluginRoutes, providers: ProviderRegistry, platform: Platform) {
        providers.register(auth: self)
        let skew = environment["KMS_AWS_AUTH_MAX_SKEW"].flatMap(TimeInterval.init) ?? 300
        let forwarder = STSForwarder(httpClient: Self.httpClient, endpoints: AWSEndpointResolver(environment: environment))
        AWSAuthRoutes(platform: platform, forwarder: forwarder, maxSkew: skew).register(routes)
    }
}
