import AWSKit
import Core
import Foundation
import ServiceLifecycle

/// PAM for the AWS console: just-in-time console or CLI access by role chaining, every session
/// recorded and audited.
public struct PAMAWSConsolePlugin: KMSPlugin, PAMProvider {
    let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) { self.environment = environment }

    public var name: String { "pam-aws-console" }
    public var resourceType: String { "aws-iam" }

    public var migrations: [Migration] {
        [Migration(owner: name, version: 1, name: "pam resources and accounts", statements: [
            """
            CREATE TABLE pam_aws_resources (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                name TEXT NOT NULL, role_arn TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, UNIQUE (project_id, name))
            """,
            """
            CREATE TABLE pam_aws_accounts (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, project_id TEXT NOT NULL,
                resource_id TEXT NOT NULL REFERENCES pam_aws_resources(id) ON DELETE CASCADE, name TEXT NOT NULL, description TEXT,
                target_role_arn TEXT NOT NULL, session_duration BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
                UNIQUE (resource_id, name))
            """,
        ])]
    }

    public var openAPIPaths: [String: String] { PAMOpenAPI.paths }

    static let httpClient = AWSQueryClient.makeHTTPClient()

    public func register(routes: PluginRoutes, providers: ProviderRegistry, platform: Platform) {
        providers.register(pam: self)
        let query = AWSQueryClient(httpClient: Self.httpClient, endpoints: AWSEndpointResolver(environment: environment))
        let server = DefaultCredentialChain.server(keyIdVariable: "KMS_PAM_AWS_ACCESS_KEY_ID", secretVariable: "KMS_PAM_AWS_SECRET_ACCESS_KEY",
                                                   environment: environment, query: query)
        let federation = ConsoleFederation(httpClient: Self.httpClient, endpointOverride: environment["KMS_AWS_FEDERATION_ENDPOINT"].flatMap(URL.init(string:)))
        PAMRoutes(platform: platform, access: ConsoleAccess(query: query, serverCredentials: server, federation: federation)).register(routes.authenticated)
    }

    public func services(platform: Platform) -> [any Service] {
        let seconds = environment["KMS_PAM_EXPIRY_INTERVAL"].flatMap(Double.init) ?? 10
        return [PAMSessionExpiry(platform: platform, interval: .milliseconds(Int(seconds * 1000)))]
    }
}
