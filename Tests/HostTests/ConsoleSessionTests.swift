import Core
import Foundation
import HTTPTypes
import Testing
@testable import Host

/// The console's sessions and form checks through the router: cookies, security headers, CSRF,
/// idle and absolute timeouts, sign-out, and a person removed while signed in.
@Suite("Console sessions")
struct ConsoleSessionTests {
    /// A browser of the tests: the session cookie and the forms' CSRF token.
    struct Person: Sendable {
        let api: API
        var cookie = ""

        func get(_ path: String) async throws -> Reply { try await api.call(.get, path, headers: [("Cookie", cookie)]) }

        func post(_ path: String, _ form: [String: String], headers: [(String, String)] = []) async throws -> Reply {
            let body = form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
            return try await api.call(.post, path, raw: body, headers: [("Cookie", cookie), ("Content-Type", "application/x-www-form-urlencoded")] + headers)
        }

        /// The CSRF token of the forms on `path`.
        func csrf(_ path: String = "/projects") async throws -> String {
            let page = try await get(path)
            guard let range = page.text.range(of: #"name="csrf" value="([^"]+)""#, options: .regularExpression) else { throw TestFailure("no csrf on \(path)") }
            return String(page.text[range].split(separator: "\"")[3])
        }

        static func signIn(_ api: API, _ email: String = "admin@example.com", _ password: String = "correct horse battery") async throws -> (Person, Reply) {
            let login = try await api.call(.get, "/login")
            let loginCookie = login.headers[values: .setCookie].first { $0.hasPrefix("kms_login_csrf=") }?.split(separator: ";").first.map(String.init) ?? ""
            var person = Person(api: api, cookie: loginCookie)
            let token = loginCookie.split(separator: "=", maxSplits: 1).last.map(String.init) ?? ""
            let reply = try await person.post("/login", ["csrf": token, "email": email, "password": password])
            person.cookie = reply.headers[values: .setCookie].first { $0.hasPrefix("kms_session=") }?.split(separator: ";").first.map(String.init) ?? ""
            return (person, reply)
        }
    }

    @Test(arguments: TestStore.allCases)
    func signInSetsAStrictCookieAndEveryPageCarriesTheHeaders(_ store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                _ = try await api.bootstrap()
                let (person, reply) = try await Person.signIn(api)
                #expect(reply.status == 303)
                #expect(reply.headers[.location] == "/projects")
                let cookie = try #require(reply.headers[values: .setCookie].first { $0.hasPrefix("kms_session=") })
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"))
                #expect(!cookie.contains("Secure"))  // the harness's public URL is http
                for path in ["/projects", "/identities", "/members", "/audit", "/login", "/assets/console.js"] {
                    let page = try await person.get(path)
                    #expect(page.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("script-src 'self'") == true, "\(path)")
                    #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY", "\(path)")
                    #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer", "\(path)")
                }
                #expect(try await person.get("/projects").headers[.cacheControl] == "no-store")
                // The token lives only in the database, sealed; the cookie is stored as a hash.
                let rows = try await h.platform.database.query(SQL("SELECT id_hash, token_sealed FROM console_sessions"))
                #expect(rows.count == 1)
                let value = String(person.cookie.split(separator: "=", maxSplits: 1)[1])
                #expect(try rows[0].string("id_hash") != value && !(try rows[0].string("token_sealed")).isEmpty)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func aWrongPasswordOrAMissingLoginTokenStartsNoSession(_ store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                _ = try await api.bootstrap()
                let (_, wrong) = try await Person.signIn(api, "admin@example.com", "wrong password")
                #expect(wrong.status == 401 && wrong.text.contains("Invalid e-mail or password."))
                let forged = try await Person(api: api).post("/login", ["email": "admin@example.com", "password": "correct horse battery"])
                #expect(forged.status == 403)
                #expect(try await h.platform.database.query(SQL("SELECT id_hash FROM console_sessions")).isEmpty)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func formsWithoutTheSessionsTokenAreRefused(_ store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let admin = try await api.bootstrap()
                let (person, _) = try await Person.signIn(api)
                let other = try await Person.signIn(api).0
                let foreign = try await other.csrf()  // a real token, of another session
                for form in [["projectName": "none"], ["projectName": "foreign", "csrf": foreign]] {
                    let r = try await person.post("/projects", form)
                    #expect(r.status == 403 && r.text.contains("CSRF check failed"))
                }
                let listed = try await api.call(.get, "/api/v1/projects?organizationId=\(admin.orgId)", token: admin.token)
                #expect((listed["projects"] as? [Any])?.isEmpty == true)
                let ok = try await person.post("/projects", ["projectName": "Fine", "csrf": try await person.csrf()])
                #expect(ok.status == 303 && ok.headers[.location]?.hasPrefix("/projects/") == true)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func sessionsEndWhenIdleAndAtTheirAbsoluteEnd(_ store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                _ = try await api.bootstrap()
                let (idle, _) = try await Person.signIn(api)
                h.clock.advance(by: 1801)
                let r = try await idle.get("/projects")
                #expect(r.status == 303 && r.headers[.location] == "/login")
                #expect(try await h.platform.database.query(SQL("SELECT id_hash FROM console_sessions")).isEmpty)

                let (busy, _) = try await Person.signIn(api)
                for _ in 0..<(8 * 3600 / 1200) {  // a request every 20 minutes keeps it alive until its end
                    #expect(try await busy.get("/projects").status == 200)
                    h.clock.advance(by: 1200)
                }
                h.clock.advance(by: 1)  // just past eight hours
                #expect(try await busy.get("/projects").status == 303)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func signOutRevokesTheTokenAndARemovedPersonIsSignedOut(_ store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let admin = try await api.bootstrap()
                let (person, _) = try await Person.signIn(api)
                let row = try #require(try await h.platform.database.first(SQL("SELECT token_sealed, id_hash FROM console_sessions")))
                let token = try h.platform.sealer.open(try row.string("token_sealed"), context: "console-session:" + (try row.string("id_hash")))
                #expect(try await api.call(.get, "/api/v1/auth/token/self", token: token).status == 200)
                let out = try await person.post("/logout", ["csrf": try await person.csrf()])
                #expect(out.status == 303 && out.headers[.location] == "/login?signedOut=1")
                #expect(try await api.call(.get, "/api/v1/auth/token/self", token: token).status == 401)
                #expect(try await person.get("/projects").status == 303)

                _ = try await api.person(admin: admin.token, orgId: admin.orgId, email: "bob@example.com")
                let (bob, _) = try await Person.signIn(api, "bob@example.com", "another long password")
                #expect(try await bob.get("/projects").status == 200)
                #expect(try await api.call(.post, "/api/v1/admin/users/remove", token: admin.token, json: ["email": "bob@example.com"]).status == 200)
                let after = try await bob.get("/projects")
                #expect(after.status == 303 && after.headers[.location] == "/login")
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func postsFromAnotherOriginAreRefusedEvenWithTheToken(_ store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let admin = try await api.bootstrap()
                let (person, _) = try await Person.signIn(api)
                let csrf = try await person.csrf()
                for headers in [[("Sec-Fetch-Site", "cross-site")], [("Sec-Fetch-Site", "same-site")], [("Origin", "https://evil.example")]] {
                    let r = try await person.post("/projects", ["projectName": "cross", "csrf": csrf], headers: headers)
                    #expect(r.status == 403, "\(headers)")
                }
                let listed = try await api.call(.get, "/api/v1/projects?organizationId=\(admin.orgId)", token: admin.token)
                #expect((listed["projects"] as? [Any])?.isEmpty == true)
                let same = try await person.post("/projects", ["projectName": "same", "csrf": csrf], headers: [("Sec-Fetch-Site", "same-origin")])
                #expect(same.status == 303)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func aTimedOutSessionsTokenIsRevokedToo(_ store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                _ = try await api.bootstrap()
                let (person, _) = try await Person.signIn(api)
                let row = try #require(try await h.platform.database.first(SQL("SELECT token_sealed, id_hash FROM console_sessions")))
                let token = try h.platform.sealer.open(try row.string("token_sealed"), context: "console-session:" + (try row.string("id_hash")))
                h.clock.advance(by: 1801)
                #expect(try await person.get("/projects").status == 303)
                #expect(try await api.call(.get, "/api/v1/auth/token/self", token: token).status == 401)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func pagesOfferAdminListsOnlyToAdminsAndStayInTheSessionsOrganization(_ store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let admin = try await api.bootstrap()
                _ = try await api.person(admin: admin.token, orgId: admin.orgId, email: "member@example.com")
                let (member, _) = try await Person.signIn(api, "member@example.com", "another long password")
                let home = try await member.get("/projects")
                #expect(home.status == 200 && !home.text.contains("href=\"/audit\"") && !home.text.contains("href=\"/members\""))
                #expect(try await member.get("/members").status == 403)
                #expect(try await member.get("/audit").status == 403)
                let denied = try await api.call(.get, "/api/v1/organizations/\(admin.orgId)/audit-logs?eventType=permission-denied", token: admin.token)
                #expect((denied["auditLogs"] as? [Any])?.isEmpty == true, "a page view wrote refusals: \(denied.text)")

                // The bootstrap identity is an instance admin: its API reads another organization's
                // project, but a console session never shows one outside its own organization.
                let other = try await api.tenant(admin: admin.token, name: "Globex", email: "g@globex.example")
                let theirs = try await api.call(.post, "/api/v1/projects", token: other.token, json: ["projectName": "Theirs"]).object("project")["id"] as? String ?? ""
                let (root, _) = try await Person.signIn(api)
                #expect(try await root.get("/projects/\(theirs)").status == 404)
                #expect(try await root.get("/projects/\(theirs)/pam").status == 404)
            }
        }
    }
}
