import Core
import Foundation
import Testing
@testable import Host

/// Resources and accounts made before PAM moved into Core survive the upgrade, on both stores.
@Suite struct PAMMigrationTests {
    @Test(arguments: TestStore.allCases) func oldResourcesAndAccountsMoveToCore(store: TestStore) async throws {
        try await TestSupport.withDatabase(store) { db in
            let platform = Platform(database: db, sealer: try Sealer(rootKey: Harness.rootKey), logger: TestSupport.logger, publicURL: "http://kms.test")
            let builder = ServerBuilder(platform: platform, plugins: PluginList.all, trustedProxies: [], settings: PluginSettings(TestSupport.loginLimits),
                                        httpClient: TestSupport.httpClient)
            let migrator = Migrator(database: db, logger: TestSupport.logger)
            // The schema as it was: Core up to version 5, the AWS console plugin's first version.
            try await migrator.migrate(builder.migrations.filter { ($0.owner == "core" && $0.version <= 5) || ($0.owner == "pam-aws-console" && $0.version == 1) })
            let org = try await platform.tenants.createOrganization(name: "Old", slug: nil)
            let creator = try await platform.identities.create(orgId: org.id, name: "creator", role: .admin)
            let project = try await platform.projects.create(orgId: org.id, name: "P", slug: nil, creator: .identity(creator.id))
            try await db.query("""
                INSERT INTO pam_aws_resources (id, org_id, project_id, name, role_arn, created_at, updated_at)
                VALUES ('r1', $1, $2, 'prod', 'arn:aws:iam::123456789012:role/entry', 1000, 2000)
                """, [.text(org.id), .text(project.id)])
            try await db.query("""
                INSERT INTO pam_aws_accounts (id, org_id, project_id, resource_id, name, description, target_role_arn, session_duration, created_at, updated_at)
                VALUES ('a1', $1, $2, 'r1', 'admin', 'break glass', 'arn:aws:iam::123456789012:role/admin', 1800, 3000, 3000)
                """, [.text(org.id), .text(project.id)])

            let applied = try await migrator.migrate(builder.migrations)
            #expect(applied.contains { $0.owner == "pam-aws-console" && $0.version == 2 })
            let pam = PAMStore(platform: platform)
            let resource = try #require(try await pam.resource(id: "r1", projectId: project.id))
            #expect(resource.connectionDetails == ["roleArn": "arn:aws:iam::123456789012:role/entry"] && resource.name == "prod" && resource.resourceType == "aws-iam")
            let account = try #require(try await pam.account(id: "a1", projectId: project.id))
            #expect(account.details == ["targetRoleArn": "arn:aws:iam::123456789012:role/admin"] && account.sessionDuration == 1800)
            #expect(account.description == "break glass" && account.resourceId == "r1")
            await #expect(throws: (any Error).self) { try await db.query("SELECT 1 FROM pam_aws_resources", []) }
        }
    }
}
