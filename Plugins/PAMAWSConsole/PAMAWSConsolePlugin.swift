import AWSKit
import Core
import Foundation

/// PAM for the AWS console: just-in-time console or CLI access by role chaining, every session
/// recorded and audited.
public struct PAMAWSConsolePlugin: KMSPlugin {
    public init() {}

    public var name: String { "pam-aws-console" }
    public var tablePrefix: String { "pam_aws_" }

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
        ]),
        // Resources and accounts now live in Core's tables, shared by every PAM provider.
        Migration(owner: name, version: 2, name: "move resources and accounts to core", statements: [
            """
            INSERT INTO pam_resources (id, org_id, project_id, resource_type, name, details, created_at, updated_at)
            SELECT id, org_id, project_id, 'aws-iam', name, '{"roleArn":"' || replace(replace(role_arn, '\\', '\\\\'), '"', '\\"') || '"}',
                   created_at, updated_at FROM pam_aws_resources
            """,
            """
            INSERT INTO pam_accounts (id, org_id, project_id, resource_id, resource_type, name, description, details, session_duration, created_at, updated_at)
            SELECT id, org_id, project_id, resource_id, 'aws-iam', name, description,
                   '{"targetRoleArn":"' || replace(replace(target_role_arn, '\\', '\\\\'), '"', '\\"') || '"}', session_duration, created_at, updated_at
            FROM pam_aws_accounts
            """,
            "DROP TABLE pam_aws_accounts",
            "DROP TABLE pam_aws_resources",
        ])]
    }

    public var openAPIPaths: [String: String] { PAMOpenAPI.paths }

    public func register(_ context: PluginContext) throws {
        let settings = context.settings.values
        let query = AWSQueryClient(httpClient: context.httpClient, endpoints: AWSEndpointResolver(environment: settings))
        let server = DefaultCredentialChain.server(keyIdVariable: "KMS_PAM_AWS_ACCESS_KEY_ID", secretVariable: "KMS_PAM_AWS_SECRET_ACCESS_KEY",
                                                   environment: settings, query: query)
        let federation = ConsoleFederation(httpClient: context.httpClient, endpointOverride: context.settings["KMS_AWS_FEDERATION_ENDPOINT"].flatMap(URL.init(string:)))
        let access = ConsoleAccess(query: query, serverCredentials: server, federation: federation)
        let provider = AWSConsolePAMProvider(platform: context.platform, access: access)
        context.providers.register(pam: provider)
        context.providers.register(consoleForm: PAMConsoleForms.resource)
        context.providers.register(consoleForm: PAMConsoleForms.account)
        PAMResourceRoutes(provider: provider, platform: context.platform).register(context.routes.authenticated)
    }
}
