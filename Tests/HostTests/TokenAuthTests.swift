import Core
import Foundation
import Testing
@testable import Host

@Suite("Token Auth provider", .serialized)
struct TokenAuthTests {
    @Test(arguments: TestStore.allCases)
    func attachMintUseAndRevoke(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let admin = try await api.bootstrap()
                let created = try await api.call(.post, "/api/v1/identities", token: admin.token, json: ["name": "job", "organizationId": admin.orgId])
                let id = created.object("identity")["id"] as? String ?? ""
                let base = "/api/v1/auth/token-auth/identities/\(id)"
                #expect(try await api.call(.get, base, token: admin.token).status == 404)
                #expect(try await api.call(.post, "\(base)/tokens", token: admin.token, json: [:]).status == 404)
                #expect(try await api.call(.post, base, token: admin.token, json: ["accessTokenTTL": 100, "accessTokenMaxTTL": 50]).status == 400)
                #expect(try await api.call(.post, base, token: admin.token, json: ["accessTokenTrustedIps": [["ipAddress": "not-an-ip"]]]).status == 400)
                #expect(try await api.call(.post, base, token: admin.token, json: ["accessTokenTTL": "soon"]).status == 422)

                let attached = try await api.call(.post, base, token: admin.token, json: ["accessTokenTTL": 60, "accessTokenMaxTTL": 120, "accessTokenNumUsesLimit": 3])
                #expect(attached.status == 200)
                let config = attached.object("identityTokenAuth")
                #expect(config["accessTokenNumUsesLimit"] as? Int == 3)
                #expect((config["accessTokenTrustedIps"] as? [[String: String]])?.map { $0["ipAddress"] ?? "" } == ["0.0.0.0/0", "::/0"])
                #expect(try await api.call(.post, base, token: admin.token, json: [:]).status == 400)
                #expect(try await api.call(.get, "/api/v1/identities/\(id)", token: admin.token).object("identity")["authMethods"] as? [String] == ["token-auth"])

                let minted = try await api.call(.post, "\(base)/tokens", token: admin.token, json: ["name": "ci"])
                #expect(minted["expiresIn"] as? Int == 60)
                let token = minted["accessToken"] as? String ?? ""
                for _ in 0..<3 { #expect(try await api.call(.get, "/api/v1/auth/token/self", token: token).status == 200) }
                let used = try await api.call(.get, "/api/v1/auth/token/self", token: token)
                #expect(used.status == 401)

                #expect(try await api.call(.patch, base, token: admin.token, json: ["accessTokenNumUsesLimit": 0]).object("identityTokenAuth")["accessTokenNumUsesLimit"] as? Int == 0)
                let second = try await api.call(.post, "\(base)/tokens", token: admin.token, json: [:])["accessToken"] as? String ?? ""
                #expect(try await api.call(.get, "/api/v1/auth/token/self", token: second).status == 200)
                #expect(try await api.call(.delete, base, token: admin.token).status == 200)
                #expect(try await api.call(.get, "/api/v1/auth/token/self", token: second).status == 401)
                #expect(try await api.call(.delete, base, token: admin.token).status == 404)

                let audit = try await api.call(.get, "/api/v1/organizations/\(admin.orgId)/audit-logs?limit=200", token: admin.token)
                let types = Set((audit["auditLogs"] as? [[String: Any]] ?? []).compactMap { $0["eventType"] as? String })
                #expect(types.isSuperset(of: ["token-auth-attached", "token-auth-updated", "token-auth-token-created", "token-auth-revoked"]))
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func otherOrganizationsCannotTouchIt(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let acme = try await api.bootstrap()
                let globex = try await api.tenant(admin: acme.token, name: "Globex", email: "boss@globex.com")
                let id = try await api.call(.post, "/api/v1/identities", token: acme.token, json: ["name": "job", "organizationId": acme.orgId]).object("identity")["id"] as? String ?? ""
                let base = "/api/v1/auth/token-auth/identities/\(id)"
                #expect(try await api.call(.post, base, token: acme.token, json: [:]).status == 200)
                #expect(try await api.call(.get, base, token: globex.token).status == 404)
                #expect(try await api.call(.patch, base, token: globex.token, json: ["accessTokenTTL": 5]).status == 404)
                #expect(try await api.call(.post, "\(base)/tokens", token: globex.token, json: [:]).status == 404)
                #expect(try await api.call(.delete, base, token: globex.token).status == 404)
                #expect(try await api.call(.post, base, json: [:]).status == 401)
            }
        }
    }
}
