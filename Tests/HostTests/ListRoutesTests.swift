import Core
import Foundation
import Testing
@testable import Host

/// The list routes the console reads: each caller sees only what is theirs.
@Suite("List routes")
struct ListRoutesTests {
    @Test(arguments: TestStore.allCases)
    func projectsListShowsMembersOnlyTheirOwn(_ store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let admin = try await api.bootstrap()
                func create(_ name: String) async throws -> String {
                    try await api.call(.post, "/api/v1/projects", token: admin.token, json: ["projectName": name]).object("project")["id"] as? String ?? ""
                }
                let mine = try await create("Mine"), hidden = try await create("Hidden"), barred = try await create("Barred")
                let person = try await api.person(admin: admin.token, orgId: admin.orgId, email: "m@example.com")
                _ = try await api.call(.post, "/api/v1/projects/\(mine)/memberships", token: admin.token, json: ["email": "m@example.com", "role": "viewer"])
                _ = try await api.call(.post, "/api/v1/projects/\(barred)/memberships", token: admin.token, json: ["email": "m@example.com", "role": "no-access"])
                let identity = try await api.call(.post, "/api/v1/identities", token: admin.token, json: ["name": "w", "organizationId": admin.orgId]).object("identity")["id"] as? String ?? ""
                _ = try await api.call(.post, "/api/v1/auth/token-auth/identities/\(identity)", token: admin.token, json: [:])
                let machine = try await api.call(.post, "/api/v1/auth/token-auth/identities/\(identity)/tokens", token: admin.token, json: [:])["accessToken"] as? String ?? ""
                _ = try await api.call(.post, "/api/v1/projects/\(hidden)/identity-memberships/\(identity)", token: admin.token, json: ["role": "member"])

                func names(_ token: String) async throws -> [String] {
                    let r = try await api.call(.get, "/api/v1/projects", token: token)
                    return ((r["projects"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }.sorted()
                }
                #expect(try await names(admin.token) == ["Barred", "Hidden", "Mine"])
                #expect(try await names(person.token) == ["Mine"])
                #expect(try await names(machine) == ["Hidden"])
                let other = try await api.tenant(admin: admin.token, name: "Globex", email: "g@globex.example")
                #expect(try await names(other.token) == [])
                #expect(try await api.call(.get, "/api/v1/projects?organizationId=\(admin.orgId)", token: other.token).status == 404)
            }
        }
    }
}
