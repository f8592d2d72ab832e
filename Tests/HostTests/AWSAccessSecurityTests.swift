import Core
import Foundation
import Testing
@testable import Host

/// Regression tests for the AWS-facing defects of the security review (issue 10, items 3, 4,
/// 7, 8 and 9) that are decided before any AWS call; the AWS side runs end to end against moto.
@Suite("AWS Auth and AWS access boundaries", .serialized)
struct AWSAccessSecurityTests {
    @Test(arguments: TestStore.allCases)
    func awsAuthRefusesUnboundAndPathConfigs(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let root = try await api.bootstrap()
                let id = try await api.identity(admin: root.token, orgId: root.orgId, name: "w")
                let base = "/api/v1/auth/aws-auth/identities/\(id)"
                // Neither principals nor accounts would admit every AWS principal in the world.
                for body: [String: Any] in [[:], ["allowedPrincipalArns": "", "allowedAccountIds": " , "]] {
                    let r = try await api.call(.post, base, token: root.token, json: body)
                    #expect(r.status == 400 && (r["message"] as? String ?? "").contains("allowedAccountIds"), "\(r.text)")
                }
                // A role with a path cannot be checked against an assumed role: refused, not widened.
                let path = try await api.call(.post, base, token: root.token, json: ["allowedPrincipalArns": "arn:aws:iam::123456789012:role/admins/*"])
                #expect(path.status == 400 && (path["message"] as? String ?? "").contains("path"))
                // A pattern that leaves the account open needs an account list.
                for open in ["arn:aws:iam::*:*", "arn:aws:sts::*:assumed-role/*"] {
                    let r = try await api.call(.post, base, token: root.token, json: ["allowedPrincipalArns": open])
                    #expect(r.status == 400 && (r["message"] as? String ?? "").contains("account"), "\(open): \(r.text)")
                }
                #expect(try await api.call(.post, base, token: root.token, json: ["allowedAccountIds": "123456789012"]).status == 200)
                // An update may not remove the last binding either.
                #expect(try await api.call(.patch, base, token: root.token, json: ["allowedAccountIds": ""]).status == 400)
                #expect(try await api.call(.patch, base, token: root.token, json: ["allowedPrincipalArns": "arn:aws:iam::123456789012:user/ci/*", "allowedAccountIds": ""]).status == 200)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func aTokenIsNeverIssuedForAConfigThatChangedOrWentAway(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let root = try await api.bootstrap()
                let id = try await api.identity(admin: root.token, orgId: root.orgId, name: "w")
                let base = "/api/v1/auth/token-auth/identities/\(id)"
                let config = try await api.call(.post, base, token: root.token, json: [:]).object("identityTokenAuth")
                let configId = config["id"] as? String ?? ""
                let verifiedAt = try #require(try await h.platform.database.first("SELECT updated_at FROM token_auth_configs WHERE id = $1", [.text(configId)])).date("updated_at")
                let spec = TokenSpec(orgId: root.orgId, subject: .identity(id), authMethod: "token-auth", authConfigId: configId, ttl: 60, maxTTL: 60)
                // A login verified against the config, then an update commits before it issues.
                h.clock.advance(by: 1)
                #expect(try await api.call(.patch, base, token: root.token, json: ["accessTokenTTL": 30]).status == 200)
                await #expect(throws: APIError.self) {
                    try await h.platform.tokens.issue(spec, whileConfigUnchanged: "token_auth_configs", configId: configId, updatedAt: verifiedAt,
                                                      audit: h.platform.audit) { AuditEvent("test-issue", orgId: root.orgId, actor: .system, metadata: ["tokenId": $0]) }
                }
                // ...or a revoke commits before it issues.
                let current = try #require(try await h.platform.database.first("SELECT updated_at FROM token_auth_configs WHERE id = $1", [.text(configId)])).date("updated_at")
                #expect(try await api.call(.delete, base, token: root.token).status == 200)
                await #expect(throws: APIError.self) {
                    try await h.platform.tokens.issue(spec, whileConfigUnchanged: "token_auth_configs", configId: configId, updatedAt: current,
                                                      audit: h.platform.audit) { AuditEvent("test-issue", orgId: root.orgId, actor: .system, metadata: ["tokenId": $0]) }
                }
                #expect(try await h.platform.database.query("SELECT id FROM access_tokens WHERE auth_config_id = $1 AND revoked_at IS NULL", [.text(configId)]).isEmpty)
                #expect(try await h.platform.database.query("SELECT id FROM audit_log WHERE event_type = 'test-issue'", []).isEmpty, "no entry for a token never issued")
            }
        }
    }

    /// A token and the audit entry recording its issue commit together: when the entry cannot
    /// be written, no token is left behind, and the chain stays whole.
    @Test(arguments: TestStore.allCases)
    func aTokenIsNeverStoredWithoutItsAuditEntry(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let root = try await api.bootstrap()
                let id = try await api.identity(admin: root.token, orgId: root.orgId, name: "w")
                let base = "/api/v1/auth/token-auth/identities/\(id)"
                #expect(try await api.call(.post, base, token: root.token, json: [:]).status == 200)
                let minted = try await api.call(.post, base + "/tokens", token: root.token, json: [:])
                #expect(minted.status == 200)
                let db = h.platform.database
                let tokens = try await db.query("SELECT id FROM access_tokens WHERE identity_id = $1", [.text(id)]).count
                #expect(tokens == 1)
                // From now on the log refuses this kind of entry.
                switch store {
                case .sqlite:
                    try await db.query("""
                        CREATE TRIGGER refuse_token_entries BEFORE INSERT ON audit_log WHEN NEW.event_type = 'token-auth-token-created'
                        BEGIN SELECT RAISE(ABORT, 'audit log refuses'); END
                        """, [])
                case .postgres:
                    try await db.query("""
                        CREATE FUNCTION refuse_token_entries() RETURNS trigger LANGUAGE plpgsql AS $$
                        BEGIN IF NEW.event_type = 'token-auth-token-created' THEN RAISE EXCEPTION 'audit log refuses'; END IF; RETURN NEW; END $$
                        """, [])
                    try await db.query("CREATE TRIGGER refuse_token_entries BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_token_entries()", [])
                }
                let refused = try await api.call(.post, base + "/tokens", token: root.token, json: [:])
                #expect(refused.status >= 500, "\(refused.text)")
                #expect(try await db.query("SELECT id FROM access_tokens WHERE identity_id = $1", [.text(id)]).count == tokens, "the token went with its entry")
                #expect(try await h.platform.audit.verify(orgId: root.orgId).valid)
            }
        }
    }

    /// An organization whose chain has no head yet gets it with a token's entry, in the same
    /// commit as the token (Postgres takes the transaction then, not the single statement).
    @Test(arguments: TestStore.allCases)
    func aTokenMayBeItsOrganizationsFirstEntry(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let root = try await api.bootstrap()
                let id = try await api.identity(admin: root.token, orgId: root.orgId, name: "w")
                let config = try await api.call(.post, "/api/v1/auth/token-auth/identities/\(id)", token: root.token, json: [:]).object("identityTokenAuth")
                let configId = config["id"] as? String ?? ""
                let verifiedAt = try #require(try await h.platform.database.first("SELECT updated_at FROM token_auth_configs WHERE id = $1", [.text(configId)])).date("updated_at")
                let spec = TokenSpec(orgId: "org-without-a-chain", subject: .identity(id), authMethod: "token-auth", authConfigId: configId, ttl: 60, maxTTL: 60)
                let issued = try await h.platform.tokens.issue(spec, whileConfigUnchanged: "token_auth_configs", configId: configId, updatedAt: verifiedAt,
                                                               audit: h.platform.audit) { AuditEvent("test-issue", orgId: "org-without-a-chain", actor: .system, metadata: ["tokenId": $0]) }
                let entries = try await h.platform.audit.list(orgId: "org-without-a-chain", AuditQuery())
                #expect(entries.map(\.eventType) == ["test-issue"] && entries.first?.metadata["tokenId"] == issued.record.id)
                #expect(try await h.platform.audit.verify(orgId: "org-without-a-chain").valid)
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func concurrentMintsAndRevokesLeaveNoLiveToken(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let root = try await api.bootstrap()
                let id = try await api.identity(admin: root.token, orgId: root.orgId, name: "w")
                let base = "/api/v1/auth/token-auth/identities/\(id)"
                for _ in 0..<15 {
                    #expect(try await api.call(.post, base, token: root.token, json: [:]).status == 200)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for _ in 0..<4 { group.addTask { _ = try await api.call(.post, "\(base)/tokens", token: root.token, json: [:]) } }
                        group.addTask {
                            let revoked = try await api.call(.delete, base, token: root.token)
                            #expect(revoked.status == 200)
                        }
                        try await group.waitForAll()
                    }
                    let live = try await h.platform.database.query("""
                        SELECT t.id FROM access_tokens t WHERE t.identity_id = $1 AND t.revoked_at IS NULL
                          AND NOT EXISTS (SELECT 1 FROM token_auth_configs c WHERE c.id = t.auth_config_id)
                        """, [.text(id)])
                    #expect(live.isEmpty, "a token outlived the revocation of its config")
                }
            }
        }
    }

    static func dynamicSecret(_ api: API, _ token: String, inputs: [String: Any]) async throws -> Reply {
        try await api.call(.post, "/api/v1/dynamic-secrets", token: token, json: [
            "name": "aws", "projectSlug": "web", "environmentSlug": "dev", "path": "/", "provider": ["type": "aws-iam", "inputs": inputs]])
    }

    @Test(arguments: TestStore.allCases)
    func theServersOwnAWSIdentityNeedsTheOperatorsAllowance(store: TestStore) async throws {
        try await Harness.with(store, ambientAWSOrgs: ["some-other-org"]) { h in
            try await h.test { api in
                let root = try await api.bootstrap()
                // Any member may create a project; being its admin must not reach the server's AWS identity.
                let member = try await api.person(admin: root.token, orgId: root.orgId, email: "dev@acme.com", role: "member")
                #expect(try await api.call(.post, "/api/v1/projects", token: member.token, json: ["projectName": "Web", "slug": "web"]).status == 200)
                for method in ["assume-role", "irsa"] {
                    let r = try await Self.dynamicSecret(api, member.token, inputs: ["method": method, "roleArn": "arn:aws:iam::123456789012:role/tenant"])
                    #expect(r.status == 403 && (r["message"] as? String ?? "").contains("KMS_AWS_AMBIENT_ORGS"), "\(method): \(r.text)")
                }
                // IRSA without a tenant role would be the server's own role: refused whatever the allowance.
                let bare = try await Self.dynamicSecret(api, member.token, inputs: ["method": "irsa"])
                #expect(bare.status == 400 && (bare["message"] as? String ?? "").contains("roleArn"))
                // PAM role chaining starts from the same identity.
                let project = try await api.call(.post, "/api/v1/projects", token: member.token, json: ["projectName": "Pam", "slug": "pam"]).object("project")["id"] as? String ?? ""
                let pam = try await api.call(.post, "/api/v1/pam/resources/aws-iam", token: member.token,
                                             json: ["projectId": project, "name": "prod", "connectionDetails": ["roleArn": "arn:aws:iam::123456789012:role/pam"]])
                #expect(pam.status == 403 && (pam["message"] as? String ?? "").contains("KMS_AWS_AMBIENT_ORGS"), "\(pam.text)")
            }
        }
    }

    @Test(arguments: TestStore.allCases)
    func unscopableTemporaryCredentialInputsAreRefused(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let root = try await api.bootstrap()
                #expect(try await api.call(.post, "/api/v1/projects", token: root.token, json: ["projectName": "Web", "slug": "web"]).status == 200)
                let key: [String: Any] = ["method": "access-key", "accessKey": "AKIAEXAMPLE", "secretAccessKey": "secret", "credentialType": "temporary-credentials"]
                let scoped: [(String, Any)] = [("policyDocument", #"{"Version":"2012-10-17","Statement":[]}"#), ("policyArns", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
                                              ("userGroups", "deployers"), ("permissionBoundaryPolicyArn", "arn:aws:iam::123456789012:policy/b"),
                                              ("tags", [["key": "team", "value": "web"]])]
                for (field, value) in scoped {
                    let r = try await Self.dynamicSecret(api, root.token, inputs: key.merging([field: value]) { a, _ in a })
                    #expect(r.status == 400 && (r["message"] as? String ?? "").contains(field), "\(field): \(r.text)")
                }
                // Over assume-role, session policies scope the credentials; groups and boundaries still cannot apply.
                let role: [String: Any] = ["method": "assume-role", "roleArn": "arn:aws:iam::123456789012:role/r", "credentialType": "temporary-credentials"]
                let groups = try await Self.dynamicSecret(api, root.token, inputs: role.merging(["userGroups": "g"]) { a, _ in a })
                #expect(groups.status == 400 && (groups["message"] as? String ?? "").contains("userGroups"))
            }
        }
    }
}
