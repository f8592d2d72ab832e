import AWSKit
import AsyncHTTPClient
import Core
import Foundation

/// AWS Auth: machine identities log in by proving their AWS identity with a signed STS
/// GetCallerIdentity request, which the server forwards to STS under strict rules.
public struct AuthAWSPlugin: KMSPlugin, AuthProvider {
    public init() {}

    public var name: String { "auth-aws" }
    public var tablePrefix: String { "aws_auth_" }
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

    public func register(_ context: PluginContext) throws {
        context.providers.register(auth: self)
        context.providers.register(consoleForm: AWSAuthConsoleForm.form)
        let skew = try context.settings.seconds("KMS_AWS_AUTH_MAX_SKEW", default: 300)
        let forwarder = STSForwarder(httpClient: context.httpClient, endpoints: AWSEndpointResolver(environment: context.settings.values))
        AWSAuthRoutes(platform: context.platform, forwarder: forwarder, maxSkew: skew).register(context.routes)
    }
}
