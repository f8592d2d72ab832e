import Core
import Foundation
import Testing
@testable import Host

@Suite("Identities and projects", .serialized)
struct IdentityProjectRouteTests {
    @Test(arguments: TestStore.allCases)
    func identityLifecycle(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let admin = try await api.bootstrap()
                let created = try await api.call(.post, "/api/v1/identities", token: admin.token, json: ["name": "ci-runner", "organizationId": admin.orgId, "role": "member"])
                #expect(created.status == 200)
                let identity = created.object("identity")
                let id = identity["id"] as? String ?? ""
                #expect(identity["orgId"] as? String == admin.orgId)
                #expect(identity["authMethods"] as? [String] == [])
                #expect(try await api.call(.post, "/api/v1/identities", token: admin.token, json: ["name": "x", "organizationId": admin.orgId, "role": "god"]).status == 400)
                #expect(try await api.call(.post, "/api/v1/identities", token: admin.token, json: ["name": "x"]).status == 422)
                #expect(try await api.call(.post, "/api/v1/identities", json: ["name": "x", "organizationId": admin.orgId]).status == 401)

                let list = try await api.call(.get, "/api/v1/identities?orgId=\(admin.orgId)", token: admin.token)
                #expect((list["identities"] as? [[String: Any]])?.count == 2)
                #expect(try await api.call(.get, "/api/v1/identities", token: admin.token).status == 400)

                #expect(try await api.call(.get, "/api/v1/identities/\(id)", token: admin.token).object("identity")["name"] as? String == "ci-runner")
                let patched = try await api.call(.patch, "/api/v1/identities/\(id)", token: admin.token, json: ["name": "ci", "role": "admin"])
                #expect(patched.object("identity")["role"] as? String == "admin")
                #expect(try await api.call(.patch, "/api/v1/identities/\(id)", token: admin.token, json: ["role": "nope"]).status == 400)

                // The identity's own token stops working once it is deleted.
                let issued = try await h.platform.tokens.issue(TokenSpec(orgId: admin.orgId, subject: .identity(id), authMethod: "test", ttl: 60, maxTTL: 60))
                #expect(try await api.call(.get, "/api/v1/auth/token/self", token: issued.token).status == 200)
                #expect(try await api.call(.delete, "/api/v1/identities/\(id)", token: admin.token).status == 200)
                #expect(try await api.call(.get, "/api/v1/auth/token/self", token: issued.token).status == 401)
                #expect(try await api.call(.get, "/api/v1/identities/\(id)", token: admin.token).status == 404)
                #expect(try await api.call(.delete, "/api/v1/identities/\(id)", token: admin.token).status == 404)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func memberIdentityIsLimited(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let admin = try await api.bootstrap()
                let member = try await api.call(.post, "/api/v1/identities", token: admin.token, json: ["name": "app", "organizationId": admin.orgId, "role": "member"])
                let memberId = member.object("identity")["id"] as? String ?? ""
                let token = try await h.platform.tokens.issue(TokenSpec(orgId: admin.orgId, subject: .identity(memberId), authMethod: "test", ttl: 600, maxTTL: 600)).token
                let denied = try await api.call(.post, "/api/v1/identities", token: token, json: ["name": "x", "organizationId": admin.orgId])
                #expect(denied.status == 403)
                #expect(denied.errorName == "Forbidden")
                #expect(try await api.call(.get, "/api/v1/identities?orgId=\(admin.orgId)", token: token).status == 200)
                #expect(try await api.call(.get, "/api/v1/organizations/\(admin.orgId)/audit-logs", token: token).status == 403)

                // Members may create projects (and administer their own), but not others' projects.
                let own = try await api.call(.post, "/api/v1/projects", token: token, json: ["projectName": "Mine"])
                #expect(own.status == 200)
                let other = try await api.call(.post, "/api/v1/projects", token: admin.token, json: ["projectName": "Theirs"])
                let otherId = other.object("project")["id"] as? String ?? ""
                #expect(try await api.call(.get, "/api/v1/projects/\(otherId)", token: token).status == 403)
                #expect(try await api.call(.post, "/api/v1/projects/\(otherId)/identity-memberships/\(memberId)", token: admin.token, json: ["role": "viewer"]).status == 200)
                #expect(try await api.call(.get, "/api/v1/projects/\(otherId)", token: token).status == 200)
                #expect(try await api.call(.post, "/api/v1/projects/\(otherId)/environments", token: token, json: ["name": "QA", "slug": "qa"]).status == 403)
                #expect(try await api.call(.delete, "/api/v1/projects/\(otherId)", token: token).status == 403)

                let audit = try await api.call(.get, "/api/v1/organizations/\(admin.orgId)/audit-logs?eventType=permission-denied", token: admin.token)
                #expect(((audit["auditLogs"] as? [[String: Any]])?.count ?? 0) >= 4)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func projectLifecycle(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let admin = try await api.bootstrap()
                let p = try await api.call(.post, "/api/v1/projects", token: admin.token, json: ["projectName": "Web App"])
                #expect(p.status == 200)
                let project = p.object("project")
                let projectId = project["id"] as? String ?? ""
                #expect(project["slug"] as? String == "web-app")
                #expect((project["environments"] as? [[String: Any]])?.compactMap { $0["slug"] as? String } == ["dev", "staging", "prod"])
                #expect(try await api.call(.post, "/api/v1/projects", token: admin.token, json: ["projectName": "Web App"]).status == 409)
                #expect(try await api.call(.post, "/api/v1/projects", token: admin.token, json: ["projectName": "X", "slug": "Not OK"]).status == 400)
                #expect(try await api.call(.post, "/api/v1/projects", token: admin.token, json: [:]).status == 422)
                #expect(try await api.call(.post, "/api/v1/projects", json: ["projectName": "X"]).status == 401)

                let env = try await api.call(.post, "/api/v1/projects/\(projectId)/environments", token: admin.token, json: ["name": "QA", "slug": "qa"])
                #expect(env.object("environment")["slug"] as? String == "qa")
                #expect(try await api.call(.post, "/api/v1/projects/\(projectId)/environments", token: admin.token, json: ["name": "QA", "slug": "qa"]).status == 409)
                #expect(try await api.call(.post, "/api/v1/projects/\(projectId)/environments", token: admin.token, json: ["name": "QA"]).status == 422)

                let identity = try await api.call(.post, "/api/v1/identities", token: admin.token, json: ["name": "deployer", "organizationId": admin.orgId])
                let identityId = identity.object("identity")["id"] as? String ?? ""
                let m = try await api.call(.post, "/api/v1/projects/\(projectId)/identity-memberships/\(identityId)", token: admin.token, json: ["role": "member"])
                #expect(m.object("identityMembership")["role"] as? String == "member")
                #expect(try await api.call(.post, "/api/v1/projects/\(projectId)/identity-memberships/\(identityId)", token: admin.token, json: ["role": "owner"]).status == 400)
                #expect(try await api.call(.post, "/api/v1/projects/\(projectId)/identity-memberships/unknown", token: admin.token, json: ["role": "member"]).status == 404)
                #expect(try await api.call(.delete, "/api/v1/projects/\(projectId)/identity-memberships/\(identityId)", token: admin.token).status == 200)
                #expect(try await api.call(.delete, "/api/v1/projects/\(projectId)/identity-memberships/\(identityId)", token: admin.token).status == 404)

                let user = try await api.call(.post, "/api/v1/organizations/\(admin.orgId)/users", token: admin.token,
                                              json: ["email": "dev@example.com", "password": "another long password", "role": "member"])
                let userId = user.object("user")["id"] as? String ?? ""
                #expect(try await api.call(.post, "/api/v1/projects/\(projectId)/memberships", token: admin.token, json: ["email": "dev@example.com", "role": "viewer"]).object("membership")["userId"] as? String == userId)
                #expect(try await api.call(.post, "/api/v1/projects/\(projectId)/memberships", token: admin.token, json: ["userId": userId, "role": "admin"]).status == 200)
                #expect(try await api.call(.post, "/api/v1/projects/\(projectId)/memberships", token: admin.token, json: ["role": "admin"]).status == 400)
                #expect(try await api.call(.post, "/api/v1/projects/\(projectId)/memberships", token: admin.token, json: ["email": "ghost@example.com", "role": "admin"]).status == 404)

                #expect(try await api.call(.get, "/api/v1/projects/\(projectId)", token: admin.token).status == 200)
                #expect(try await api.call(.delete, "/api/v1/projects/\(projectId)", token: admin.token).status == 200)
                #expect(try await api.call(.get, "/api/v1/projects/\(projectId)", token: admin.token).status == 404)
            }
        }
    }
}
