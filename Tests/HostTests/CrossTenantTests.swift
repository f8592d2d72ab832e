import Core
import Foundation
import HTTPTypes
import Testing
@testable import Host

@Suite("Cross-tenant isolation", .serialized)
struct CrossTenantTests {
    /// An admin of one organization probes every route with the other organization's objects:
    /// each answer is 404, never the object and never a hint that it exists.
    @Test(arguments: TestStore.allCases)
    func everyRouteHidesOtherOrganizations(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let acme = try await api.bootstrap()
                let globex = try await api.tenant(admin: acme.token, name: "Globex", email: "boss@globex.com")
                let project = try await api.call(.post, "/api/v1/projects", token: acme.token, json: ["projectName": "Secret Plans"])
                let projectId = project.object("project")["id"] as? String ?? ""
                let identity = try await api.call(.post, "/api/v1/identities", token: acme.token, json: ["name": "acme-bot", "organizationId": acme.orgId])
                let identityId = identity.object("identity")["id"] as? String ?? ""
                let theirs = try await api.call(.post, "/api/v1/identities", token: globex.token, json: ["name": "globex-bot", "organizationId": globex.orgId])
                let theirIdentity = theirs.object("identity")["id"] as? String ?? ""

                let probes: [(HTTPRequest.Method, String, [String: Any]?)] = [
                    (.post, "/api/v1/organizations/\(acme.orgId)/users", ["email": "spy@globex.com", "password": "another long password", "role": "admin"]),
                    (.post, "/api/v1/identities", ["name": "spy", "organizationId": acme.orgId]),
                    (.get, "/api/v1/identities?orgId=\(acme.orgId)", nil),
                    (.get, "/api/v1/identities/\(identityId)", nil),
                    (.patch, "/api/v1/identities/\(identityId)", ["name": "pwned"]),
                    (.delete, "/api/v1/identities/\(identityId)", nil),
                    (.post, "/api/v1/projects", ["projectName": "Spy", "organizationId": acme.orgId]),
                    (.get, "/api/v1/projects/\(projectId)", nil),
                    (.delete, "/api/v1/projects/\(projectId)", nil),
                    (.post, "/api/v1/projects/\(projectId)/environments", ["name": "Spy", "slug": "spy"]),
                    (.post, "/api/v1/projects/\(projectId)/identity-memberships/\(theirIdentity)", ["role": "admin"]),
                    (.delete, "/api/v1/projects/\(projectId)/identity-memberships/\(identityId)", nil),
                    (.post, "/api/v1/projects/\(projectId)/memberships", ["email": "boss@globex.com", "role": "admin"]),
                    (.get, "/api/v1/organizations/\(acme.orgId)/audit-logs", nil),
                    (.get, "/api/v1/organizations/\(acme.orgId)/audit-logs/verify", nil),
                    (.post, "/api/v1/auth/token-auth/identities/\(identityId)", [:]),
                    (.post, "/api/v1/auth/aws-auth/identities/\(identityId)", [:]),
                    (.get, "/api/v1/auth/aws-auth/identities/\(identityId)", nil),
                    (.patch, "/api/v1/auth/aws-auth/identities/\(identityId)", ["accessTokenTTL": 5]),
                    (.delete, "/api/v1/auth/aws-auth/identities/\(identityId)", nil),
                ]
                for (method, uri, body) in probes {
                    let r = try await api.call(method, uri, token: globex.token, json: body)
                    #expect(r.status == 404, "\(method) \(uri) answered \(r.status): \(r.text)")
                    #expect(!r.text.contains("Secret Plans") && !r.text.contains("acme-bot"))
                }
                // Nothing changed on Acme's side.
                #expect(try await api.call(.get, "/api/v1/identities/\(identityId)", token: acme.token).object("identity")["name"] as? String == "acme-bot")
                #expect(try await api.call(.get, "/api/v1/projects/\(projectId)", token: acme.token).status == 200)
                // And Acme's token cannot reach into Globex either (Acme's admin identity is the
                // instance admin, so use a plain Acme member instead).
                let acmeMember = try await h.platform.tokens.issue(TokenSpec(orgId: acme.orgId, subject: .identity(identityId), authMethod: "test", ttl: 60, maxTTL: 60)).token
                #expect(try await api.call(.get, "/api/v1/identities/\(theirIdentity)", token: acmeMember).status == 404)
                #expect(try await api.call(.get, "/api/v1/organizations/\(globex.orgId)/audit-logs", token: acmeMember).status == 404)
            }
        }
    }
}
