import Core
import Foundation
import Testing
@testable import Host

/// The tenant-isolation and privilege matrix: for every route of the OpenAPI document and every
/// kind of caller, the status the caller gets, generated from one table of what each route needs.
@Suite("Privilege matrix", .serialized)
struct PrivilegeMatrixTests {
    enum Actor: String, CaseIterable, Sendable {
        case instanceAdmin, orgAdmin, member, viewer, identity, otherTenantAdmin, anonymous
    }

    /// What a route needs of its caller, on organization Alpha's objects.
    enum Need: Sendable {
        case open, anyToken, instanceAdmin, orgMember, orgAdmin, projectViewer, projectMember, projectAdmin
        /// Project member and a signed-in person (PAM access is not for machine identities).
        case personProjectMember
    }

    /// The status `actor` gets on a route that needs `need` and answers `allowed` when permitted.
    static func expected(_ actor: Actor, _ need: Need, allowed: Int) -> Int {
        switch (actor, need) {
        case (_, .open): return allowed
        case (.anonymous, _): return 401
        // The fixture's instance admin is the bootstrap identity, and console access is for people.
        case (.instanceAdmin, .personProjectMember): return 403
        case (_, .anyToken), (.instanceAdmin, _): return allowed
        case (_, .instanceAdmin): return 403
        case (.otherTenantAdmin, _): return 404  // another tenant's objects do not exist for it
        case (.orgAdmin, _): return allowed
        case (.member, .orgAdmin), (.viewer, .orgAdmin), (.identity, .orgAdmin), (_, .projectAdmin): return 403
        case (.viewer, .projectMember), (.viewer, .personProjectMember), (.identity, .personProjectMember): return 403
        default: return allowed
        }
    }

    /// Alpha's objects and every caller's token.
    struct Fixture: @unchecked Sendable {
        let root: String
        let alpha: String
        var tokens: [Actor: String] = [:]
        var memberId = ""
        var projectId = ""
        var identityId = ""  // an ordinary identity with Token Auth and AWS Auth
        var resourceId = ""
        var accountId = ""
        var sessionId = ""
        var leaseId = ""
        var clientSecretId = ""
        var streamId = ""
        var approvalAccountId = ""
        var requestId = ""
    }

    /// An active session of someone outside the table, for revocation rows.
    static func freshSession(_ f: Fixture) async throws -> String {
        guard let platform = PlatformBox.current else { throw TestFailure("no platform") }
        let id = SecureRandom.id()
        try await platform.database.query("""
            INSERT INTO pam_sessions (id, org_id, project_id, resource_type, resource_id, account_id, user_id, user_email, access_method, target,
                federated_username, status, started_at, expires_at) VALUES ($1, $2, $3, 'aws-iam', $4, $5, 'someone', 'someone@alpha.com', 'web', 'x', 'someone',
                'active', 0, 9999999999999)
            """, [.text(id), .text(f.alpha), .text(f.projectId), .text(f.resourceId), .text(f.accountId)])
        return id
    }

    static func freshStream(_ f: Fixture, _ api: API) async throws -> String {
        let r = try await api.call(.post, "/api/v1/organizations/\(f.alpha)/audit-log-streams", token: f.root, json: streamBody())
        guard r.status == 200 else { throw TestFailure("stream: \(r.text)") }
        return r.object("auditLogStream")["id"] as? String ?? ""
    }

    static func streamBody() -> [String: Any] {
        ["name": unique("s"), "kind": "webhook", "url": "http://127.0.0.1:9/hook", "secret": "0123456789abcdef0123"]
    }

    typealias Make = @Sendable (Fixture, API) async throws -> (uri: String, body: [String: Any]?)

    struct Route: @unchecked Sendable {
        let method: String
        let path: String
        let need: Need
        let allowed: Int
        let make: Make
        /// Named by project slug, which resolves in the caller's own organization: for an instance
        /// admin from another organization, Alpha's project does not exist there.
        var bySlug: Bool { path.hasPrefix("/api/v1/dynamic-secrets") }
    }

    static func unique(_ prefix: String) -> String { "\(prefix)-\(SecureRandom.id().prefix(8).lowercased())" }
    static var scope: [String: Any] { ["projectSlug": "p", "environmentSlug": "dev", "path": "/"] }
    static let scopeQuery = "projectSlug=p&environmentSlug=dev&path=/"

    /// A fresh identity of Alpha, made by the instance admin, with `methods` attached.
    /// A valid attach body per method (no server is contacted on attach).
    nonisolated(unsafe) static let attachBodies: [String: [String: Any]] = [
        "aws-auth": ["allowedAccountIds": "123456789012"],
        "oidc-auth": ["oidcDiscoveryUrl": "https://127.0.0.1:9", "boundIssuer": "https://issuer.test", "boundAudiences": "kms", "boundSubject": "ci"],
        "ldap-auth": ["url": "ldaps://127.0.0.1:9", "bindDN": "cn=kms,dc=example,dc=org", "bindPass": "service password", "searchBase": "dc=example,dc=org"],
    ]

    static func freshIdentity(_ f: Fixture, _ api: API, methods: [String] = []) async throws -> String {
        let id = try await api.call(.post, "/api/v1/identities", token: f.root, json: ["name": unique("i"), "organizationId": f.alpha]).object("identity")["id"] as? String ?? ""
        for method in methods {
            let body = attachBodies[method] ?? [:]
            let r = try await api.call(.post, "/api/v1/auth/\(method)/identities/\(id)", token: f.root, json: body)
            guard r.status == 200 else { throw TestFailure("attach \(method): \(r.text)") }
        }
        return id
    }

    static func freshLease(_ f: Fixture, _ api: API) async throws -> String {
        let r = try await api.call(.post, "/api/v1/dynamic-secrets/leases", token: f.tokens[.orgAdmin], json: scope.merging(["dynamicSecretName": "db"]) { a, _ in a })
        guard r.status == 200 else { throw TestFailure("lease: \(r.text)") }
        return r.object("lease")["id"] as? String ?? ""
    }

    static let routes: [Route] = [
        Route(method: "GET", path: "/api/status", need: .open, allowed: 200) { _, _ in ("/api/status", nil) },
        Route(method: "GET", path: "/api/health", need: .open, allowed: 200) { _, _ in ("/api/health", nil) },
        Route(method: "GET", path: "/metrics", need: .open, allowed: 200) { _, _ in ("/metrics", nil) },
        Route(method: "GET", path: "/api/docs/openapi.json", need: .open, allowed: 200) { _, _ in ("/api/docs/openapi.json", nil) },
        Route(method: "POST", path: "/api/v1/admin/bootstrap", need: .open, allowed: 400) { _, _ in
            ("/api/v1/admin/bootstrap", ["email": "x@y.com", "password": "a long enough password", "organization": "X"]) },
        Route(method: "POST", path: "/api/v1/auth/user/login", need: .open, allowed: 401) { _, _ in
            ("/api/v1/auth/user/login", ["email": "member@alpha.com", "password": "not the password"]) },
        Route(method: "POST", path: "/api/v1/auth/user/accept-invite", need: .open, allowed: 401) { _, _ in
            ("/api/v1/auth/user/accept-invite", ["inviteToken": "kms_inv_nope", "password": "a long enough password"]) },
        Route(method: "POST", path: "/api/v1/organizations", need: .instanceAdmin, allowed: 200) { _, _ in ("/api/v1/organizations", ["name": unique("org")]) },
        Route(method: "POST", path: "/api/v1/admin/users/remove", need: .instanceAdmin, allowed: 200) { f, api in
            let email = "\(unique("gone"))@alpha.com"
            _ = try await api.person(admin: f.root, orgId: f.alpha, email: email)
            return ("/api/v1/admin/users/remove", ["email": email]) },
        Route(method: "GET", path: "/api/v1/organizations/{orgId}/users", need: .orgAdmin, allowed: 200) { f, _ in ("/api/v1/organizations/\(f.alpha)/users", nil) },
        Route(method: "POST", path: "/api/v1/organizations/{orgId}/users", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/organizations/\(f.alpha)/users", ["email": "\(unique("p"))@alpha.com", "role": "member"]) },
        Route(method: "POST", path: "/api/v1/identities", need: .orgAdmin, allowed: 200) { f, _ in ("/api/v1/identities", ["name": unique("i"), "organizationId": f.alpha]) },
        Route(method: "GET", path: "/api/v1/identities", need: .orgMember, allowed: 200) { f, _ in ("/api/v1/identities?orgId=\(f.alpha)", nil) },
        Route(method: "GET", path: "/api/v1/identities/{identityId}", need: .orgMember, allowed: 200) { f, _ in ("/api/v1/identities/\(f.identityId)", nil) },
        Route(method: "PATCH", path: "/api/v1/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, _ in ("/api/v1/identities/\(f.identityId)", ["name": unique("n")]) },
        Route(method: "DELETE", path: "/api/v1/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, api in
            ("/api/v1/identities/\(try await freshIdentity(f, api))", nil) },
        Route(method: "POST", path: "/api/v1/projects", need: .orgMember, allowed: 200) { f, _ in ("/api/v1/projects", ["projectName": unique("proj"), "organizationId": f.alpha]) },
        Route(method: "GET", path: "/api/v1/projects", need: .orgMember, allowed: 200) { f, _ in ("/api/v1/projects?organizationId=\(f.alpha)", nil) },
        Route(method: "GET", path: "/api/v1/projects/{projectId}", need: .projectViewer, allowed: 200) { f, _ in ("/api/v1/projects/\(f.projectId)", nil) },
        Route(method: "DELETE", path: "/api/v1/projects/{projectId}", need: .projectAdmin, allowed: 200) { f, api in
            // A project of Alpha's in which the member, viewer and identity have no role.
            let p = try await api.call(.post, "/api/v1/projects", token: f.root, json: ["projectName": unique("gone"), "organizationId": f.alpha])
            return ("/api/v1/projects/\(p.object("project")["id"] as? String ?? "")", nil) },
        Route(method: "POST", path: "/api/v1/projects/{projectId}/environments", need: .projectAdmin, allowed: 200) { f, _ in
            ("/api/v1/projects/\(f.projectId)/environments", ["name": "Env", "slug": unique("e")]) },
        Route(method: "POST", path: "/api/v1/projects/{projectId}/identity-memberships/{identityId}", need: .projectAdmin, allowed: 200) { f, _ in
            ("/api/v1/projects/\(f.projectId)/identity-memberships/\(f.identityId)", ["role": "viewer"]) },
        Route(method: "DELETE", path: "/api/v1/projects/{projectId}/identity-memberships/{identityId}", need: .projectAdmin, allowed: 200) { f, api in
            let id = try await freshIdentity(f, api)
            _ = try await api.call(.post, "/api/v1/projects/\(f.projectId)/identity-memberships/\(id)", token: f.root, json: ["role": "viewer"])
            return ("/api/v1/projects/\(f.projectId)/identity-memberships/\(id)", nil) },
        Route(method: "POST", path: "/api/v1/projects/{projectId}/memberships", need: .projectAdmin, allowed: 200) { f, _ in
            ("/api/v1/projects/\(f.projectId)/memberships", ["userId": f.memberId, "role": "member"]) },
        Route(method: "POST", path: "/api/v1/auth/token/renew", need: .open, allowed: 401) { _, _ in ("/api/v1/auth/token/renew", ["accessToken": "kms_at_nope"]) },
        Route(method: "POST", path: "/api/v1/auth/token/revoke", need: .open, allowed: 401) { _, _ in ("/api/v1/auth/token/revoke", ["accessToken": "kms_at_nope"]) },
        Route(method: "GET", path: "/api/v1/auth/token/self", need: .anyToken, allowed: 200) { _, _ in ("/api/v1/auth/token/self", nil) },
        Route(method: "GET", path: "/api/v1/organizations/{orgId}/audit-logs", need: .orgAdmin, allowed: 200) { f, _ in ("/api/v1/organizations/\(f.alpha)/audit-logs", nil) },
        Route(method: "GET", path: "/api/v1/organizations/{orgId}/audit-logs/verify", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/organizations/\(f.alpha)/audit-logs/verify", nil) },
        Route(method: "POST", path: "/api/v1/organizations/{orgId}/audit-log-streams", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/organizations/\(f.alpha)/audit-log-streams", streamBody()) },
        Route(method: "GET", path: "/api/v1/organizations/{orgId}/audit-log-streams", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/organizations/\(f.alpha)/audit-log-streams", nil) },
        Route(method: "GET", path: "/api/v1/organizations/{orgId}/audit-log-streams/{streamId}", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/organizations/\(f.alpha)/audit-log-streams/\(f.streamId)", nil) },
        Route(method: "PATCH", path: "/api/v1/organizations/{orgId}/audit-log-streams/{streamId}", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/organizations/\(f.alpha)/audit-log-streams/\(f.streamId)", ["headers": ["Authorization": "Splunk token"]]) },
        Route(method: "DELETE", path: "/api/v1/organizations/{orgId}/audit-log-streams/{streamId}", need: .orgAdmin, allowed: 200) { f, api in
            ("/api/v1/organizations/\(f.alpha)/audit-log-streams/\(try await freshStream(f, api))", nil) },
        // Dynamic secrets (a recording provider stands in for the cloud).
        Route(method: "POST", path: "/api/v1/dynamic-secrets", need: .projectAdmin, allowed: 200) { _, _ in
            ("/api/v1/dynamic-secrets", scope.merging(["name": unique("ds"), "provider": ["type": "rec", "inputs": ["account": "a"]]]) { a, _ in a }) },
        Route(method: "GET", path: "/api/v1/dynamic-secrets", need: .projectViewer, allowed: 200) { _, _ in ("/api/v1/dynamic-secrets?\(scopeQuery)", nil) },
        Route(method: "GET", path: "/api/v1/dynamic-secrets/{name}", need: .projectViewer, allowed: 200) { _, _ in ("/api/v1/dynamic-secrets/db?\(scopeQuery)", nil) },
        Route(method: "PATCH", path: "/api/v1/dynamic-secrets/{name}", need: .projectAdmin, allowed: 200) { _, _ in
            ("/api/v1/dynamic-secrets/db", scope.merging(["data": ["defaultTTL": 60]]) { a, _ in a }) },
        Route(method: "DELETE", path: "/api/v1/dynamic-secrets/{name}", need: .projectAdmin, allowed: 200) { f, api in
            let name = unique("gone")
            _ = try await api.call(.post, "/api/v1/dynamic-secrets", token: f.tokens[.orgAdmin],
                                   json: scope.merging(["name": name, "provider": ["type": "rec", "inputs": ["account": "a"]]]) { a, _ in a })
            return ("/api/v1/dynamic-secrets/\(name)", scope) },
        Route(method: "GET", path: "/api/v1/dynamic-secrets/{name}/leases", need: .projectViewer, allowed: 200) { _, _ in ("/api/v1/dynamic-secrets/db/leases?\(scopeQuery)", nil) },
        Route(method: "POST", path: "/api/v1/dynamic-secrets/leases", need: .projectMember, allowed: 200) { _, _ in
            ("/api/v1/dynamic-secrets/leases", scope.merging(["dynamicSecretName": "db"]) { a, _ in a }) },
        Route(method: "GET", path: "/api/v1/dynamic-secrets/leases/{leaseId}", need: .projectViewer, allowed: 200) { f, _ in
            ("/api/v1/dynamic-secrets/leases/\(f.leaseId)?\(scopeQuery)", nil) },
        Route(method: "DELETE", path: "/api/v1/dynamic-secrets/leases/{leaseId}", need: .projectMember, allowed: 200) { f, api in
            ("/api/v1/dynamic-secrets/leases/\(try await freshLease(f, api))", scope) },
        Route(method: "POST", path: "/api/v1/dynamic-secrets/leases/{leaseId}/renew", need: .projectMember, allowed: 200) { f, _ in
            ("/api/v1/dynamic-secrets/leases/\(f.leaseId)/renew", scope.merging(["ttl": "1s"]) { a, _ in a }) },
        // Token Auth.
        Route(method: "POST", path: "/api/v1/auth/token-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, api in
            ("/api/v1/auth/token-auth/identities/\(try await freshIdentity(f, api))", [:]) },
        Route(method: "GET", path: "/api/v1/auth/token-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/auth/token-auth/identities/\(f.identityId)", nil) },
        Route(method: "PATCH", path: "/api/v1/auth/token-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/auth/token-auth/identities/\(f.identityId)", ["accessTokenTTL": 600]) },
        Route(method: "DELETE", path: "/api/v1/auth/token-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, api in
            ("/api/v1/auth/token-auth/identities/\(try await freshIdentity(f, api, methods: ["token-auth"]))", nil) },
        Route(method: "POST", path: "/api/v1/auth/token-auth/identities/{identityId}/tokens", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/auth/token-auth/identities/\(f.identityId)/tokens", [:]) },
        // AWS Auth.
        Route(method: "POST", path: "/api/v1/auth/aws-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, api in
            ("/api/v1/auth/aws-auth/identities/\(try await freshIdentity(f, api))", ["allowedAccountIds": "123456789012"]) },
        Route(method: "GET", path: "/api/v1/auth/aws-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/auth/aws-auth/identities/\(f.identityId)", nil) },
        Route(method: "PATCH", path: "/api/v1/auth/aws-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/auth/aws-auth/identities/\(f.identityId)", ["accessTokenTTL": 600]) },
        Route(method: "DELETE", path: "/api/v1/auth/aws-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, api in
            ("/api/v1/auth/aws-auth/identities/\(try await freshIdentity(f, api, methods: ["aws-auth"]))", nil) },
        Route(method: "POST", path: "/api/v1/auth/aws-auth/login", need: .open, allowed: 400) { f, _ in
            ("/api/v1/auth/aws-auth/login", ["identityId": f.identityId, "iamHttpRequestMethod": "POST", "iamRequestBody": "QWN0aW9uPUdldENhbGxlcklkZW50aXR5", "iamRequestHeaders": "{}"]) },
        Route(method: "POST", path: "/edge/v1/auth", need: .open, allowed: 400) { f, _ in
            ("/edge/v1/auth", ["clientId": f.identityId, "client": ["aws": ["stsGetCallerIdentity": ["headers": [:] as [String: String], "region": "us-east-1"]]]]) },
        // Universal Auth.
        Route(method: "POST", path: "/api/v1/auth/universal-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, api in
            ("/api/v1/auth/universal-auth/identities/\(try await freshIdentity(f, api))", [:]) },
        Route(method: "GET", path: "/api/v1/auth/universal-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/auth/universal-auth/identities/\(f.identityId)", nil) },
        Route(method: "PATCH", path: "/api/v1/auth/universal-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/auth/universal-auth/identities/\(f.identityId)", ["accessTokenTTL": 600]) },
        Route(method: "DELETE", path: "/api/v1/auth/universal-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, api in
            ("/api/v1/auth/universal-auth/identities/\(try await freshIdentity(f, api, methods: ["universal-auth"]))", nil) },
        Route(method: "POST", path: "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/auth/universal-auth/identities/\(f.identityId)/client-secrets", ["description": "ci"]) },
        Route(method: "GET", path: "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/auth/universal-auth/identities/\(f.identityId)/client-secrets", nil) },
        Route(method: "GET", path: "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets/{clientSecretId}", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/auth/universal-auth/identities/\(f.identityId)/client-secrets/\(f.clientSecretId)", nil) },
        Route(method: "POST", path: "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets/{clientSecretId}/revoke", need: .orgAdmin, allowed: 200) { f, api in
            let made = try await api.call(.post, "/api/v1/auth/universal-auth/identities/\(f.identityId)/client-secrets", token: f.root, json: [:])
            return ("/api/v1/auth/universal-auth/identities/\(f.identityId)/client-secrets/\(made.object("clientSecretData")["id"] as? String ?? "")/revoke", nil) },
        Route(method: "POST", path: "/api/v1/auth/universal-auth/login", need: .open, allowed: 401) { _, _ in
            ("/api/v1/auth/universal-auth/login", ["clientId": unique("client"), "clientSecret": "nope"]) },
        Route(method: "POST", path: "/api/v1/auth/oidc-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, api in
            ("/api/v1/auth/oidc-auth/identities/\(try await freshIdentity(f, api))", attachBodies["oidc-auth"]) },
        Route(method: "GET", path: "/api/v1/auth/oidc-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/auth/oidc-auth/identities/\(f.identityId)", nil) },
        Route(method: "PATCH", path: "/api/v1/auth/oidc-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/auth/oidc-auth/identities/\(f.identityId)", ["accessTokenTTL": 600]) },
        Route(method: "DELETE", path: "/api/v1/auth/oidc-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, api in
            ("/api/v1/auth/oidc-auth/identities/\(try await freshIdentity(f, api, methods: ["oidc-auth"]))", nil) },
        Route(method: "POST", path: "/api/v1/auth/oidc-auth/login", need: .open, allowed: 401) { f, _ in
            ("/api/v1/auth/oidc-auth/login", ["identityId": unique("i"), "jwt": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"]) },
        Route(method: "POST", path: "/api/v1/auth/ldap-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, api in
            ("/api/v1/auth/ldap-auth/identities/\(try await freshIdentity(f, api))", attachBodies["ldap-auth"]) },
        Route(method: "GET", path: "/api/v1/auth/ldap-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/auth/ldap-auth/identities/\(f.identityId)", nil) },
        Route(method: "PATCH", path: "/api/v1/auth/ldap-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, _ in
            ("/api/v1/auth/ldap-auth/identities/\(f.identityId)", ["accessTokenTTL": 600]) },
        Route(method: "DELETE", path: "/api/v1/auth/ldap-auth/identities/{identityId}", need: .orgAdmin, allowed: 200) { f, api in
            ("/api/v1/auth/ldap-auth/identities/\(try await freshIdentity(f, api, methods: ["ldap-auth"]))", nil) },
        Route(method: "POST", path: "/api/v1/auth/ldap-auth/login", need: .open, allowed: 401) { f, _ in
            ("/api/v1/auth/ldap-auth/login", ["identityId": unique("i"), "username": "nobody", "password": "wrong"]) },
        // PAM (the server's AWS identity is allowed for Alpha; AWS itself answers 503: 502).
        Route(method: "POST", path: "/api/v1/pam/resources/aws-iam", need: .projectAdmin, allowed: 502) { f, _ in
            ("/api/v1/pam/resources/aws-iam", ["projectId": f.projectId, "name": unique("r"), "connectionDetails": ["roleArn": "arn:aws:iam::123456789012:role/pam"]]) },
        Route(method: "GET", path: "/api/v1/pam/resources/aws-iam/{resourceId}", need: .projectViewer, allowed: 200) { f, _ in
            ("/api/v1/pam/resources/aws-iam/\(f.resourceId)", nil) },
        Route(method: "PATCH", path: "/api/v1/pam/resources/aws-iam/{resourceId}", need: .projectAdmin, allowed: 200) { f, _ in
            ("/api/v1/pam/resources/aws-iam/\(f.resourceId)", ["name": unique("renamed")]) },
        Route(method: "DELETE", path: "/api/v1/pam/resources/aws-iam/{resourceId}", need: .projectAdmin, allowed: 200) { f, api in
            ("/api/v1/pam/resources/aws-iam/\(try await pamResource(f, api))", nil) },
        Route(method: "POST", path: "/api/v1/pam/accounts/aws-iam", need: .projectAdmin, allowed: 200) { f, _ in
            ("/api/v1/pam/accounts/aws-iam", ["resourceId": f.resourceId, "name": unique("a"),
                                              "credentials": ["targetRoleArn": "arn:aws:iam::123456789012:role/target", "defaultSessionDuration": 900]]) },
        Route(method: "POST", path: "/api/v1/pam/accounts/access", need: .personProjectMember, allowed: 502) { f, _ in
            ("/api/v1/pam/accounts/access", ["accountId": f.accountId, "projectId": f.projectId]) },
        Route(method: "GET", path: "/api/v1/pam/resources", need: .projectViewer, allowed: 200) { f, _ in ("/api/v1/pam/resources?projectId=\(f.projectId)", nil) },
        Route(method: "GET", path: "/api/v1/pam/accounts", need: .projectViewer, allowed: 200) { f, _ in ("/api/v1/pam/accounts?projectId=\(f.projectId)", nil) },
        Route(method: "GET", path: "/api/v1/pam/sessions", need: .projectViewer, allowed: 200) { f, _ in ("/api/v1/pam/sessions?projectId=\(f.projectId)", nil) },
        Route(method: "GET", path: "/api/v1/pam/sessions/{sessionId}", need: .projectViewer, allowed: 200) { f, _ in ("/api/v1/pam/sessions/\(f.sessionId)", nil) },
        Route(method: "POST", path: "/api/v1/pam/sessions/{sessionId}/revoke", need: .projectAdmin, allowed: 200) { f, _ in
            ("/api/v1/pam/sessions/\(try await freshSession(f))/revoke", [:]) },
        Route(method: "PATCH", path: "/api/v1/pam/accounts/aws-iam/{accountId}", need: .projectAdmin, allowed: 200) { f, _ in
            ("/api/v1/pam/accounts/aws-iam/\(f.accountId)", ["description": unique("d")]) },
        Route(method: "POST", path: "/api/v1/pam/access-requests", need: .personProjectMember, allowed: 200) { f, _ in
            ("/api/v1/pam/access-requests", ["projectId": f.projectId, "accountId": f.approvalAccountId, "duration": 900]) },
        Route(method: "GET", path: "/api/v1/pam/access-requests", need: .projectViewer, allowed: 200) { f, _ in
            ("/api/v1/pam/access-requests?projectId=\(f.projectId)", nil) },
        Route(method: "GET", path: "/api/v1/pam/access-requests/{requestId}", need: .projectViewer, allowed: 200) { f, _ in
            ("/api/v1/pam/access-requests/\(f.requestId)", nil) },
        // Nobody in the table is an approver of the account or the requester: everyone who can
        // see the request is refused.
        Route(method: "POST", path: "/api/v1/pam/access-requests/{requestId}/review", need: .projectViewer, allowed: 403) { f, _ in
            ("/api/v1/pam/access-requests/\(f.requestId)/review", ["decision": "approve"]) },
        Route(method: "POST", path: "/api/v1/pam/access-requests/{requestId}/cancel", need: .projectViewer, allowed: 403) { f, _ in
            ("/api/v1/pam/access-requests/\(f.requestId)/cancel", [:]) },
        Route(method: "PUT", path: "/api/v1/pam/notification-settings", need: .projectAdmin, allowed: 200) { f, _ in
            ("/api/v1/pam/notification-settings", ["projectId": f.projectId, "url": "http://127.0.0.1:9/pam", "secret": "0123456789abcdef0123"]) },
        Route(method: "GET", path: "/api/v1/pam/notification-settings", need: .projectAdmin, allowed: 200) { f, _ in
            ("/api/v1/pam/notification-settings?projectId=\(f.projectId)", nil) },
        Route(method: "DELETE", path: "/api/v1/pam/notification-settings", need: .projectAdmin, allowed: 200) { f, _ in
            ("/api/v1/pam/notification-settings?projectId=\(f.projectId)", nil) },
    ]

    /// A PAM resource row of Alpha's project (creating one through the API needs AWS).
    static func pamResource(_ f: Fixture, _ api: API, platform: Platform? = nil) async throws -> String {
        guard let platform = PlatformBox.current else { throw TestFailure("no platform") }
        let id = SecureRandom.id()
        try await platform.database.query("""
            INSERT INTO pam_resources (id, org_id, project_id, resource_type, name, details, created_at, updated_at)
            VALUES ($1, $2, $3, 'aws-iam', $4, '{"roleArn":"arn:aws:iam::123456789012:role/pam"}', 0, 0)
            """, [.text(id), .text(f.alpha), .text(f.projectId), .text(unique("res"))])
        return id
    }

    /// AWS answers 503 at once, and the server has a key for PAM.
    static let failingAWS = ["AWS_ENDPOINT_URL": FailingAWSEndpoint.shared.url, "KMS_PAM_AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
                             "KMS_PAM_AWS_SECRET_ACCESS_KEY": "secret", "AWS_EC2_METADATA_DISABLED": "true"]

    static var plugins: [any KMSPlugin] {
        PluginList.all + [ProviderPlugin(provider: ConfigRecordingProvider())]
    }

    static func fixture(_ h: Harness, _ api: API) async throws -> Fixture {
        let root = try await api.bootstrap()
        let alpha = try await api.call(.post, "/api/v1/organizations", token: root.token, json: ["name": "Alpha"]).object("organization")["id"] as? String ?? ""
        let beta = try await api.call(.post, "/api/v1/organizations", token: root.token, json: ["name": "Beta"]).object("organization")["id"] as? String ?? ""
        var f = Fixture(root: root.token, alpha: alpha)
        f.tokens[.instanceAdmin] = root.token
        f.tokens[.orgAdmin] = try await api.person(admin: root.token, orgId: alpha, email: "admin@alpha.com", role: "admin").token
        let member = try await api.person(admin: root.token, orgId: alpha, email: "member@alpha.com", role: "member")
        f.tokens[.member] = member.token
        f.memberId = member.userId
        let viewer = try await api.person(admin: root.token, orgId: alpha, email: "viewer@alpha.com", role: "member")
        f.tokens[.viewer] = viewer.token
        f.tokens[.otherTenantAdmin] = try await api.person(admin: root.token, orgId: beta, email: "admin@beta.com", role: "admin").token

        f.projectId = try await api.call(.post, "/api/v1/projects", token: root.token, json: ["projectName": "P", "slug": "p", "organizationId": alpha])
            .object("project")["id"] as? String ?? ""
        _ = try await api.call(.post, "/api/v1/projects/\(f.projectId)/memberships", token: root.token, json: ["userId": member.userId, "role": "member"])
        _ = try await api.call(.post, "/api/v1/projects/\(f.projectId)/memberships", token: root.token, json: ["userId": viewer.userId, "role": "viewer"])
        // The workload: an identity of Alpha with a project member role and a Token Auth token.
        let workload = try await freshIdentity(f, api, methods: ["token-auth"])
        _ = try await api.call(.post, "/api/v1/projects/\(f.projectId)/identity-memberships/\(workload)", token: root.token, json: ["role": "member"])
        f.tokens[.identity] = try await api.call(.post, "/api/v1/auth/token-auth/identities/\(workload)/tokens", token: root.token, json: [:])["accessToken"] as? String ?? ""
        f.identityId = try await freshIdentity(f, api, methods: ["token-auth", "aws-auth", "universal-auth", "oidc-auth", "ldap-auth"])
        f.clientSecretId = try await api.call(.post, "/api/v1/auth/universal-auth/identities/\(f.identityId)/client-secrets", token: root.token, json: [:])
            .object("clientSecretData")["id"] as? String ?? ""

        let secret = try await api.call(.post, "/api/v1/dynamic-secrets", token: f.tokens[.orgAdmin],
                                        json: scope.merging(["name": "db", "maxTTL": "30d", "provider": ["type": "rec", "inputs": ["account": "a"]]]) { a, _ in a })
        guard secret.status == 200 else { throw TestFailure("secret: \(secret.text)") }
        f.leaseId = try await freshLease(f, api)
        f.streamId = try await freshStream(f, api)
        f.resourceId = try await pamResource(f, api)
        f.accountId = SecureRandom.id()
        try await h.platform.database.query("""
            INSERT INTO pam_accounts (id, org_id, project_id, resource_id, resource_type, name, details, session_duration, created_at, updated_at)
            VALUES ($1, $2, $3, $4, 'aws-iam', 'acct', '{"targetRoleArn":"arn:aws:iam::123456789012:role/target"}', 900, 0, 0)
            """, [.text(f.accountId), .text(alpha), .text(f.projectId), .text(f.resourceId)])
        f.approvalAccountId = SecureRandom.id()
        try await h.platform.database.query("""
            INSERT INTO pam_accounts (id, org_id, project_id, resource_id, resource_type, name, details, session_duration, access_policy, created_at, updated_at)
            VALUES ($1, $2, $3, $4, 'aws-iam', 'approved-only', '{"targetRoleArn":"arn:aws:iam::123456789012:role/target"}', 900,
                '{"requiresApproval":true,"approvers":["approver@alpha.com"],"minApprovals":1,"maxDuration":3600,"requireReason":false}', 0, 0)
            """, [.text(f.approvalAccountId), .text(alpha), .text(f.projectId), .text(f.resourceId)])
        f.requestId = SecureRandom.id()
        try await h.platform.database.query("""
            INSERT INTO pam_access_requests (id, org_id, project_id, account_id, requester_id, requester_email, status, duration, created_at, pending_until)
            VALUES ($1, $2, $3, $4, 'someone', 'someone@alpha.com', 'pending', 900, 0, 9999999999999)
            """, [.text(f.requestId), .text(alpha), .text(f.projectId), .text(f.approvalAccountId)])
        f.sessionId = SecureRandom.id()
        try await h.platform.database.query("""
            INSERT INTO pam_sessions (id, org_id, project_id, resource_type, resource_id, account_id, user_id, user_email, access_method, target,
                federated_username, status, started_at, expires_at) VALUES ($1, $2, $3, 'aws-iam', $4, $5, $6, 'member@alpha.com', 'web', 'x', 'member', 'ended', 0, 0)
            """, [.text(f.sessionId), .text(alpha), .text(f.projectId), .text(f.resourceId), .text(f.accountId), .text(member.userId)])
        return f
    }

    @Test func theTableCoversEveryDocumentedRoute() throws {
        let document = try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json(plugins: PluginList.all).utf8)) as? [String: Any] ?? [:]
        let documented = Set((document["paths"] as? [String: [String: Any]] ?? [:]).flatMap { path, item in item.keys.map { "\($0.uppercased()) \(path)" } })
        let covered = Set(Self.routes.map { "\($0.method) \($0.path)" })
        #expect(documented.subtracting(covered).isEmpty, "routes with no row in the matrix: \(documented.subtracting(covered).sorted())")
        #expect(covered.subtracting(documented).isEmpty, "rows for undocumented routes: \(covered.subtracting(documented).sorted())")
    }

    @Test(arguments: TestStore.allCases)
    func everyActorGetsExactlyWhatTheTableSays(store: TestStore) async throws {
        try await Harness.with(store, ambientAWSOrgs: ["alpha"], plugins: Self.plugins, settings: Self.failingAWS) { h in
            PlatformBox.current = h.platform
            try await h.test { api in
                let f = try await Self.fixture(h, api)
                var mismatches: [String] = []
                // Callers that must be refused go first, so a wrongly allowed change cannot hide behind a later one.
                let order: [Actor] = [.anonymous, .otherTenantAdmin, .viewer, .identity, .member, .orgAdmin, .instanceAdmin]
                for route in Self.routes {
                    for actor in order {
                        let (uri, body) = try await route.make(f, api)
                        let r = try await api.call(.init(route.method)!, uri, token: f.tokens[actor], json: body)
                        let want = route.bySlug && actor == .instanceAdmin ? 404 : Self.expected(actor, route.need, allowed: route.allowed)
                        if r.status != want { mismatches.append("\(actor.rawValue) \(route.method) \(route.path): got \(r.status), want \(want): \(r.text.prefix(160))") }
                    }
                }
                #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(mismatches.joined(separator: "\n"))")
            }
        }
    }
}

/// The harness's platform, for table rows that must write rows the API cannot make offline.
enum PlatformBox {
    nonisolated(unsafe) static var current: Platform?
}
