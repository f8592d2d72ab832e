import Core
import Foundation
import Testing
@testable import Host

@Suite("PAM session engine", .serialized)
struct PAMSessionTests {
    @Test(arguments: TestStore.allCases)
    func sessionsEndAtExpiryAndOnlyPeopleOpenThem(store: TestStore) async throws {
        try await Harness.with(store) { h in
            let admin = try await h.test { try await $0.bootstrap() }
            let project = try await h.platform.projects.create(orgId: admin.orgId, name: "P", slug: "p", creator: .user(admin.userId))
            let store = PAMSessionStore(platform: h.platform)
            let userToken = try await h.platform.tokens.issue(TokenSpec(orgId: admin.orgId, subject: .user(admin.userId), authMethod: "user-password", ttl: 60, maxTTL: 60))
            let person = Principal(token: userToken.record, email: "admin@example.com")
            let grant = PAMGrant(target: "arn:aws:iam::123456789012:role/ReadOnly", federatedUsername: "admin@example.com",
                                 expiresAt: h.clock.source.now().addingTimeInterval(900))
            let request = RequestInfo(clientIP: "192.0.2.1", userAgent: "test")
            let session = try await store.record(orgId: admin.orgId, projectId: project.id, resourceType: "aws-iam", resourceId: "r", accountId: "a",
                                                 user: person, method: "web", reason: "debugging", grant: grant, request: request)
            #expect(session.status == "active")
            let machine = Principal(token: try await h.platform.tokens.lookup(admin.token)!)
            await #expect(throws: APIError.self) {
                try await store.record(orgId: admin.orgId, projectId: project.id, resourceType: "aws-iam", resourceId: "r", accountId: "a",
                                       user: machine, method: "web", reason: nil, grant: grant, request: request)
            }
            h.clock.advance(by: 899)
            #expect(try await store.endExpired() == 0)
            h.clock.advance(by: 2)
            #expect(try await store.endExpired() == 1)
            let ended = try #require(try await store.find(id: session.id))
            #expect(ended.status == "ended")
            #expect(ended.endedAt.map { abs($0.timeIntervalSince(grant.expiresAt)) < 0.01 } == true)
            #expect(try await store.list(projectId: project.id).count == 1)
            let audit = try await h.platform.audit.list(orgId: admin.orgId, AuditQuery())
            #expect(audit.contains { $0.eventType == "pam-session-started" && $0.metadata["reason"] == "debugging" })
            #expect(audit.contains { $0.eventType == "pam-session-ended" })
        }
    }
}
