import Core
import Foundation
import Testing
@testable import Host

@Suite("Instance, organizations, users", .serialized)
struct InstanceRouteTests {
    @Test(arguments: TestStore.allCases)
    func bootstrapOnceThenLogin(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let first = try await api.call(.post, "/api/v1/admin/bootstrap", json: ["email": "Admin@Example.com", "password": "correct horse battery", "organization": "Acme"])
                #expect(first.status == 200)
                #expect(first.object("user")["email"] as? String == "admin@example.com")
                #expect(first.object("organization")["slug"] as? String == "acme")
                let token = (first.object("identity")["credentials"] as? [String: Any])?["token"] as? String
                #expect(token?.hasPrefix("kms_at_") == true)

                let again = try await api.call(.post, "/api/v1/admin/bootstrap", json: ["email": "x@example.com", "password": "correct horse battery", "organization": "Other"])
                #expect(again.status == 400)
                #expect(again.errorName == "BadRequest")
                #expect(again["reqId"] as? String != nil)
                #expect(again["statusCode"] as? Int == 400)

                let login = try await api.call(.post, "/api/v1/auth/user/login", json: ["email": "admin@example.com", "password": "correct horse battery"])
                #expect(login.status == 200)
                #expect(login["tokenType"] as? String == "Bearer")
                #expect(login["expiresIn"] as? Int == 8 * 3600)
                let wrong = try await api.call(.post, "/api/v1/auth/user/login", json: ["email": "admin@example.com", "password": "wrong password!!"])
                #expect(wrong.status == 401)
                let unknown = try await api.call(.post, "/api/v1/auth/user/login", json: ["email": "nobody@example.com", "password": "wrong password!!"])
                #expect(unknown.status == 401)
                #expect(unknown["message"] as? String == wrong["message"] as? String)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func bootstrapValidation(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                #expect(try await api.call(.post, "/api/v1/admin/bootstrap", json: ["email": "bad", "password": "correct horse battery", "organization": "A"]).status == 400)
                #expect(try await api.call(.post, "/api/v1/admin/bootstrap", json: ["email": "a@b.co", "password": "short", "organization": "A"]).status == 400)
                let missing = try await api.call(.post, "/api/v1/admin/bootstrap", json: ["email": "a@b.co"])
                #expect(missing.status == 422)
                #expect(missing.errorName == "ValidationError")
                #expect(try await api.call(.post, "/api/v1/admin/bootstrap", json: ["email": 5, "password": "x", "organization": "A"]).status == 422)
                #expect(try await api.call(.post, "/api/v1/admin/bootstrap", raw: "{not json").status == 400)
                #expect(try await api.call(.post, "/api/v1/admin/bootstrap", raw: "").status == 400)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func organizationsAndUsers(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let admin = try await api.bootstrap()
                let org = try await api.call(.post, "/api/v1/organizations", token: admin.token, json: ["name": "Globex", "slug": "globex"])
                #expect(org.status == 200)
                #expect(try await api.call(.post, "/api/v1/organizations", token: admin.token, json: ["name": "Globex 2", "slug": "globex"]).status == 409)
                #expect(try await api.call(.post, "/api/v1/organizations", json: ["name": "NoAuth"]).status == 401)
                #expect(try await api.call(.post, "/api/v1/organizations", token: "kms_at_bogus", json: ["name": "Bad"]).status == 401)
                #expect(try await api.call(.post, "/api/v1/organizations", token: admin.token, json: ["name": 3]).status == 422)

                let globex = org.object("organization")["id"] as? String ?? ""
                let user = try await api.call(.post, "/api/v1/organizations/\(globex)/users", token: admin.token,
                                              json: ["email": "member@globex.com", "password": "another long password", "role": "member"])
                #expect(user.status == 200)
                #expect(try await api.call(.post, "/api/v1/organizations/\(globex)/users", token: admin.token,
                                           json: ["email": "member@globex.com", "password": "another long password", "role": "member"]).status == 409)
                #expect(try await api.call(.post, "/api/v1/organizations/\(globex)/users", token: admin.token,
                                           json: ["email": "x@globex.com", "password": "another long password", "role": "owner"]).status == 400)
                #expect(try await api.call(.post, "/api/v1/organizations/does-not-exist/users", token: admin.token,
                                           json: ["email": "y@globex.com", "password": "another long password", "role": "member"]).status == 404)

                // A member may neither create organizations nor add users.
                let login = try await api.call(.post, "/api/v1/auth/user/login", json: ["email": "member@globex.com", "password": "another long password"])
                let member = login["accessToken"] as? String ?? ""
                #expect(try await api.call(.post, "/api/v1/organizations", token: member, json: ["name": "Mine"]).status == 403)
                #expect(try await api.call(.post, "/api/v1/organizations/\(globex)/users", token: member,
                                           json: ["email": "z@globex.com", "password": "another long password", "role": "admin"]).status == 403)
                // ...and another organization's routes are not found for it.
                #expect(try await api.call(.post, "/api/v1/organizations/\(admin.orgId)/users", token: member,
                                           json: ["email": "z@globex.com", "password": "another long password", "role": "admin"]).status == 404)
            }
        }
    }

    @Test func bodyLimitAndUnknownRoutes() async throws {
        try await Harness.with(.sqlite) { h in
            try await h.test { api in
                let big = String(repeating: "a", count: KMSRequestContext.bodyLimit + 10)
                let r = try await api.call(.post, "/api/v1/admin/bootstrap", raw: "{\"email\":\"\(big)\"}")
                #expect(r.status == 413)
                #expect(r.errorName == "PayloadTooLarge")
                let missing = try await api.call(.get, "/api/v1/nothing-here")
                #expect(missing.status == 404)
                #expect(missing.errorName == "NotFound")
                let status = try await api.call(.get, "/api/status")
                #expect(status["status"] as? String == "ok")
                #expect(status.headers[.init("X-Request-Id")!] != nil)
            }
        }
    }
}
