@testable import Core
import Foundation
import Testing
@testable import Host

/// Request lifetimes on a manual clock: a pending request expires after 24 h and grants nothing.
@Suite struct PAMRequestTests {
    @Test(arguments: TestStore.allCases)
    func aPendingRequestExpiresAfterADay(store: TestStore) async throws {
        try await Harness.with(store) { h in
            let (orgId, projectId, userId) = try await h.test { api -> (String, String, String) in
                let root = try await api.bootstrap()
                let person = try await api.person(admin: root.token, orgId: root.orgId, email: "alice@example.com", role: "member")
                let project = try await api.call(.post, "/api/v1/projects", token: root.token, json: ["projectName": "P", "organizationId": root.orgId])
                return (root.orgId, project.object("project")["id"] as? String ?? "", person.userId)
            }
            let db = h.platform.database
            try await db.query("""
                INSERT INTO pam_resources (id, org_id, project_id, resource_type, name, details, created_at, updated_at)
                VALUES ('r', $1, $2, 'aws-iam', 'r', '{"roleArn":"arn:aws:iam::123456789012:role/e"}', 0, 0)
                """, [.text(orgId), .text(projectId)])
            try await db.query("""
                INSERT INTO pam_accounts (id, org_id, project_id, resource_id, resource_type, name, details, session_duration, access_policy, created_at, updated_at)
                VALUES ('a', $1, $2, 'r', 'aws-iam', 'a', '{"targetRoleArn":"arn:aws:iam::123456789012:role/t"}', 900,
                    '{"requiresApproval":true,"approvers":["bob@example.com"]}', 0, 0)
                """, [.text(orgId), .text(projectId)])
            let requests = PAMRequestStore(platform: h.platform)
            let account = try #require(try await PAMStore(platform: h.platform).account(id: "a", projectId: projectId))
            let request = try await requests.create(account: account, requesterId: userId, email: "alice@example.com", duration: 600, reason: nil)
            let expiry = PAMSessionExpiry(platform: h.platform, providers: h.builder.registry)
            try await expiry.pass()
            #expect(try await requests.find(id: request.id)?.status == "pending")
            h.clock.advance(by: PAMRequestStore.pendingLifetime + 1)
            try await expiry.pass()
            #expect(try await requests.find(id: request.id)?.status == "expired")
            // An expired request cannot be approved, and grants nothing.
            #expect(try await requests.decide(id: request.id, approved: true, duration: 600) == false)
            #expect(try await requests.openGrant(accountId: "a", requesterId: userId) == nil)
            let events = try await h.platform.audit.list(orgId: orgId, AuditQuery()).map(\.eventType)
            #expect(events.contains("pam-access-request-expired"))
        }
    }
}
