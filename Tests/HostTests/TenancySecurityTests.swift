import Core
import Foundation
import Testing
@testable import Host

/// Regression tests for the tenancy defects of the security review (issue 10, items 1, 2, 11,
/// 12 and "a person in several organizations"). Each would pass on the vulnerable code only if
/// the defect were absent.
@Suite("Tenancy and privilege boundaries", .serialized)
struct TenancySecurityTests {
    static let victimPassword = "the victim's own password"
    static let attackerPassword = "a password the attacker chose"

    /// The instance (with victim@corp.com in its first organization) and Globex, whose admin attacks.
    static func victimAndAttacker(_ api: API) async throws -> (root: (token: String, orgId: String, userId: String), globex: (orgId: String, token: String, userId: String)) {
        let root = try await api.bootstrap()
        _ = try await api.person(admin: root.token, orgId: root.orgId, email: "victim@corp.com", password: victimPassword)
        return (root, try await api.tenant(admin: root.token, name: "Globex", email: "boss@globex.com"))
    }

    @Test(arguments: TestStore.allCases)
    func orgAdminsInviteAndCanNeverSetOrReplaceACredential(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let (root, globex) = try await Self.victimAndAttacker(api)
                let users = "/api/v1/organizations/\(globex.orgId)/users"

                // An org admin may not choose a password for anyone, whether or not the address has an account.
                for email in ["victim@corp.com", "later@corp.com"] {
                    let r = try await api.call(.post, users, token: globex.token, json: ["email": email, "password": Self.attackerPassword, "role": "admin"])
                    #expect(r.status == 403, "\(email): \(r.text)")
                }
                #expect(try await api.login("victim@corp.com", Self.attackerPassword).status == 401)
                #expect(try await api.login("later@corp.com", Self.attackerPassword).status == 401, "no account was pre-registered")

                // Invitations look alike whether the address has an account elsewhere or not.
                let existing = try await api.call(.post, users, token: globex.token, json: ["email": "victim@corp.com", "role": "admin"])
                let fresh = try await api.call(.post, users, token: globex.token, json: ["email": "new@corp.com", "role": "member"])
                #expect(existing.status == 200 && fresh.status == 200)
                #expect(Set(existing.json.keys) == ["invitation", "inviteToken"] && Set(fresh.json.keys) == Set(existing.json.keys))
                #expect(Set(existing.object("invitation").keys) == Set(fresh.object("invitation").keys))
                let victimInvite = existing["inviteToken"] as? String ?? ""
                #expect(victimInvite.hasPrefix("kms_inv_"))

                // Holding the invitation is not enough to take over an existing account.
                let accept = "/api/v1/auth/user/accept-invite"
                #expect(try await api.call(.post, accept, json: ["inviteToken": victimInvite, "password": Self.attackerPassword]).status == 401)
                #expect(try await api.login("victim@corp.com", Self.attackerPassword).status == 401)
                #expect(try await api.login("victim@corp.com", Self.victimPassword).status == 200)

                // The person accepts with their own password and keeps it; the invitation is single-use.
                let joined = try await api.call(.post, accept, json: ["inviteToken": victimInvite, "password": Self.victimPassword])
                #expect(joined.status == 200)
                #expect(joined["organizationId"] as? String == globex.orgId)
                #expect(try await api.call(.post, accept, json: ["inviteToken": victimInvite, "password": Self.victimPassword]).status == 401)
                #expect(try await api.login("victim@corp.com", Self.victimPassword, organizationId: globex.orgId).status == 200)

                // A new person sets their own password through the invitation.
                let created = try await api.call(.post, accept, json: ["inviteToken": fresh["inviteToken"] as? String ?? "", "password": "my very own passphrase"])
                #expect(created.status == 200)
                #expect(try await api.login("new@corp.com", "my very own passphrase").status == 200)

                // Invitations expire.
                let late = try await api.call(.post, users, token: globex.token, json: ["email": "slow@corp.com", "role": "member"])
                h.clock.advance(by: InvitationStore.lifetime + 1)
                #expect(try await api.call(.post, accept, json: ["inviteToken": late["inviteToken"] as? String ?? "", "password": "my very own passphrase"]).status == 401)

                // The operator frees an address someone claimed: the account goes everywhere, with its tokens.
                let boss = try await api.login("boss@globex.com", "another long password")["accessToken"] as? String ?? ""  // the old token has expired
                #expect(try await api.call(.post, "/api/v1/admin/users/remove", token: boss, json: ["email": "new@corp.com"]).status == 403)
                let newToken = try await api.login("new@corp.com", "my very own passphrase")["accessToken"] as? String ?? ""
                let removed = try await api.call(.post, "/api/v1/admin/users/remove", token: root.token, json: ["email": "new@corp.com"])
                #expect(removed.status == 200 && (removed["tokensRevoked"] as? Int ?? 0) >= 1)
                #expect(try await api.call(.get, "/api/v1/auth/token/self", token: newToken).status == 401)
                #expect(try await api.login("new@corp.com", "my very own passphrase").status == 401)
                let again2 = try await api.call(.post, "/api/v1/organizations/\(globex.orgId)/users", token: boss, json: ["email": "new@corp.com", "role": "member"])
                #expect(try await api.call(.post, "/api/v1/auth/user/accept-invite",
                                           json: ["inviteToken": again2["inviteToken"] as? String ?? "", "password": "the real owner's passphrase"]).status == 200)
                // Even an instance admin cannot replace an existing account's password.
                let again = try await api.call(.post, "/api/v1/organizations/\(root.orgId)/users", token: root.token,
                                               json: ["email": "new@corp.com", "password": Self.attackerPassword, "role": "member"])
                #expect(again.status == 409)
                #expect(try await api.login("new@corp.com", Self.attackerPassword).status == 401)
                #expect(try await api.login("new@corp.com", "the real owner's passphrase").status == 200)

                let audit = try await api.call(.get, "/api/v1/organizations/\(globex.orgId)/audit-logs?limit=200", token: root.token)
                let types = Set((audit["auditLogs"] as? [[String: Any]] ?? []).compactMap { $0["eventType"] as? String })
                #expect(types.isSuperset(of: ["user-invited", "user-invitation-accepted"]))
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func instanceAdminIdentitiesAreOutOfReachOfOrgAdmins(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let root = try await api.bootstrap()
                let me = try await api.call(.get, "/api/v1/auth/token/self", token: root.token)
                let rootIdentity = me["identityId"] as? String ?? ""
                // An org admin (a person) of the bootstrap organization, not an instance admin.
                let orgAdmin = try await api.person(admin: root.token, orgId: root.orgId, email: "ops@acme.com", role: "admin")
                #expect(try await api.call(.get, "/api/v1/identities/\(rootIdentity)", token: orgAdmin.token).object("identity")["isInstanceAdmin"] as? Bool == true)

                // Every route that changes an identity, from the OpenAPI document: the org admin is
                // refused on the instance-admin identity and allowed on an ordinary one.
                let document = try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json(plugins: PluginList.all).utf8)) as? [String: Any] ?? [:]
                let paths = (document["paths"] as? [String: [String: Any]] ?? [:]).filter { $0.key.contains("{identityId}") && !$0.key.contains("{projectId}") }
                #expect(paths.count >= 4)
                let bodies: [String: [String: Any]] = [
                    "aws-auth": ["allowedAccountIds": "123456789012"], "token-auth": [:], "identities": ["role": "member"],
                ]
                for (path, item) in paths.sorted(by: { $0.key < $1.key }) {
                    for method in item.keys.sorted() where method != "get" {
                        let body = bodies.first { path.contains($0.key) }?.value ?? [:]
                        let uri = path.replacingOccurrences(of: "{identityId}", with: rootIdentity)
                        let r = try await api.call(.init(method.uppercased())!, uri, token: orgAdmin.token, json: body)
                        #expect(r.status == 403, "\(method) \(path): \(r.status) \(r.text)")
                    }
                }
                // Nothing changed: the root token still works and the identity has no new method.
                #expect(try await api.call(.get, "/api/v1/identities/\(rootIdentity)", token: root.token).object("identity")["authMethods"] as? [String] == [])
                #expect(try await api.call(.post, "/api/v1/organizations", token: orgAdmin.token, json: ["name": "Mine"]).status == 403)

                // The same org admin manages an ordinary identity.
                let worker = try await api.call(.post, "/api/v1/identities", token: orgAdmin.token, json: ["name": "w", "organizationId": root.orgId])
                let workerId = worker.object("identity")["id"] as? String ?? ""
                #expect(try await api.call(.post, "/api/v1/auth/token-auth/identities/\(workerId)", token: orgAdmin.token, json: [:]).status == 200)
                #expect(try await api.call(.patch, "/api/v1/identities/\(workerId)", token: orgAdmin.token, json: ["role": "admin"]).status == 200)
                // ...and the instance admin still manages its own.
                #expect(try await api.call(.post, "/api/v1/auth/token-auth/identities/\(rootIdentity)", token: root.token, json: [:]).status == 200)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func aPersonChoosesTheOrganizationAndTheTokenStaysInIt(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let root = try await api.bootstrap()
                let a = try await api.tenant(admin: root.token, name: "Alpha", email: "alpha-admin@x.com")
                let b = try await api.call(.post, "/api/v1/organizations", token: root.token, json: ["name": "Beta"]).object("organization")["id"] as? String ?? ""
                // Member of both (admin of Beta), through an invitation accepted with the existing password.
                let invite = try await api.call(.post, "/api/v1/organizations/\(b)/users", token: root.token, json: ["email": "alpha-admin@x.com", "role": "admin"])
                #expect(try await api.call(.post, "/api/v1/auth/user/accept-invite",
                                           json: ["inviteToken": invite["inviteToken"] as? String ?? "", "password": "another long password"]).status == 200)

                let intoBeta = try await api.login("alpha-admin@x.com", "another long password", organizationId: b)
                #expect(intoBeta["organizationId"] as? String == b)
                let betaToken = intoBeta["accessToken"] as? String ?? ""
                #expect(try await api.call(.get, "/api/v1/auth/token/self", token: betaToken)["orgId"] as? String == b)
                #expect(try await api.call(.post, "/api/v1/identities", token: betaToken, json: ["name": "x", "organizationId": b]).status == 200)
                // The Beta token does not act in Alpha, though the person is an admin there too.
                #expect(try await api.call(.post, "/api/v1/identities", token: betaToken, json: ["name": "x", "organizationId": a.orgId]).status == 404)
                #expect(try await api.call(.get, "/api/v1/organizations/\(a.orgId)/audit-logs", token: betaToken).status == 404)
                #expect(try await api.call(.post, "/api/v1/identities", token: a.token, json: ["name": "x", "organizationId": b]).status == 404)
                // An organization the person does not belong to is refused at login.
                #expect(try await api.login("alpha-admin@x.com", "another long password", organizationId: root.orgId).status == 403)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func renewalHonoursTrustedIPs(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.live { api in
                let root = try await api.bootstrap()
                let identity = try await api.call(.post, "/api/v1/identities", token: root.token, json: ["name": "ci", "organizationId": root.orgId])
                let id = identity.object("identity")["id"] as? String ?? ""
                #expect(try await api.call(.post, "/api/v1/auth/token-auth/identities/\(id)", token: root.token,
                                           json: ["accessTokenTTL": 60, "accessTokenMaxTTL": 600, "accessTokenTrustedIps": [["ipAddress": "10.9.8.0/24"]]]).status == 200)
                let token = try await api.call(.post, "/api/v1/auth/token-auth/identities/\(id)/tokens", token: root.token, json: [:])["accessToken"] as? String ?? ""
                // Used from 127.0.0.1, outside the trusted range: neither use nor renewal.
                #expect(try await api.call(.get, "/api/v1/auth/token/self", token: token).status == 403)
                let renew = try await api.call(.post, "/api/v1/auth/token/renew", json: ["accessToken": token])
                #expect(renew.status == 403, "\(renew.text)")
                // A token trusted from loopback renews.
                #expect(try await api.call(.patch, "/api/v1/auth/token-auth/identities/\(id)", token: root.token,
                                           json: ["accessTokenTrustedIps": [["ipAddress": "127.0.0.0/8"], ["ipAddress": "::1/128"]]]).status == 200)
                let good = try await api.call(.post, "/api/v1/auth/token-auth/identities/\(id)/tokens", token: root.token, json: [:])["accessToken"] as? String ?? ""
                #expect(try await api.call(.post, "/api/v1/auth/token/renew", json: ["accessToken": good]).status == 200)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func failedLoginsWriteABoundedNumberOfAuditEntries(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let root = try await api.bootstrap()
                for _ in 0..<60 { #expect(try await api.login("admin@example.com", "wrong password, again").status == 401) }
                func failures() async throws -> [[String: Any]] {
                    let audit = try await api.call(.get, "/api/v1/organizations/\(root.orgId)/audit-logs?eventType=user-login-failed&limit=1000", token: root.token)
                    return audit["auditLogs"] as? [[String: Any]] ?? []
                }
                let written = try await failures()
                #expect(written.count == 5, "60 failures from one source write its budget of 5 a minute")
                // The suppressed count is carried by the next entry once the window has passed.
                h.clock.advance(by: 61)
                #expect(try await api.login("admin@example.com", "wrong password, again").status == 401)
                let after = try await failures()
                #expect(after.count == 6)
                let carried = after.compactMap { ($0["eventMetadata"] as? [String: String])?["suppressedFailures"] }
                #expect(carried == ["55"])
                // An unknown address answers exactly like a wrong password.
                let unknown = try await api.login("nobody@example.com", "wrong password, again")
                let known = try await api.login("admin@example.com", "wrong password, again")
                #expect(unknown.status == known.status && unknown["message"] as? String == known["message"] as? String)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func anInvitationIsNoPasswordOracleNorGuessingDevice(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let (root, globex) = try await Self.victimAndAttacker(api)
                let users = "/api/v1/organizations/\(globex.orgId)/users", accept = "/api/v1/auth/user/accept-invite"
                let existing = try await api.call(.post, users, token: globex.token, json: ["email": "victim@corp.com", "role": "member"])["inviteToken"] as? String ?? ""
                let unused = try await api.call(.post, users, token: globex.token, json: ["email": "unused@corp.com", "role": "member"])["inviteToken"] as? String ?? ""
                // A malformed password gets the same answer whether or not the address has an account.
                let a = try await api.call(.post, accept, json: ["inviteToken": existing, "password": "x"])
                let b = try await api.call(.post, accept, json: ["inviteToken": unused, "password": "x"])
                #expect(a.status == 400 && b.status == 400 && a["message"] as? String == b["message"] as? String)
                // Five wrong guesses void the invitation: the right password no longer helps.
                for _ in 0..<InvitationStore.maxFailedAttempts {
                    #expect(try await api.call(.post, accept, json: ["inviteToken": existing, "password": "a wrong guess, again"]).status == 401)
                }
                #expect(try await api.call(.post, accept, json: ["inviteToken": existing, "password": Self.victimPassword]).status == 401)
                let audit = try await api.call(.get, "/api/v1/organizations/\(globex.orgId)/audit-logs?eventType=user-invitation-failed&limit=100", token: root.token)
                let entries = audit["auditLogs"] as? [[String: Any]] ?? []
                #expect(entries.count == InvitationStore.maxFailedAttempts)
                #expect(entries.contains { ($0["eventMetadata"] as? [String: String])?["voided"] == "true" })
            }
        }
    }
}
