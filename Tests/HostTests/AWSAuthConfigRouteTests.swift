import Core
import Foundation
import Testing
@testable import Host

@Suite("AWS Auth configuration routes", .serialized)
struct AWSAuthConfigRouteTests {
    @Test(arguments: TestStore.allCases)
    func attachValidateUpdateGetRevoke(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let admin = try await api.bootstrap()
                let id = try await api.call(.post, "/api/v1/identities", token: admin.token, json: ["name": "w", "organizationId": admin.orgId]).object("identity")["id"] as? String ?? ""
                let base = "/api/v1/auth/aws-auth/identities/\(id)"
                #expect(try await api.call(.get, base, token: admin.token).status == 404)
                #expect(try await api.call(.patch, base, token: admin.token, json: [:]).status == 404)
                #expect(try await api.call(.post, base, token: admin.token, json: ["allowedAccountIds": "12345"]).status == 400)
                #expect(try await api.call(.post, base, token: admin.token, json: ["allowedPrincipalArns": "arn:aws:s3:::b"]).status == 400)
                #expect(try await api.call(.post, base, token: admin.token, json: ["stsEndpoint": "https://evil.example.com/"]).status == 400)
                #expect(try await api.call(.post, base, token: admin.token, json: ["accessTokenTTL": 10, "accessTokenMaxTTL": 5]).status == 400)
                #expect(try await api.call(.post, base, token: admin.token, json: ["accessTokenTrustedIps": [["ipAddress": "nope"]]]).status == 400)
                #expect(try await api.call(.post, base, token: admin.token, json: ["accessTokenTTL": "x"]).status == 422)
                #expect(try await api.call(.post, base, json: [:]).status == 401)

                let attached = try await api.call(.post, base, token: admin.token, json: [
                    "allowedPrincipalArns": "arn:aws:iam::123456789012:role/web", "allowedAccountIds": "123456789012",
                    "iamServerIdHeaderValue": "kms.example.com", "accessTokenTTL": 600, "accessTokenMaxTTL": 3600])
                #expect(attached.status == 200)
                let config = attached.object("identityAwsAuth")
                #expect(config["type"] as? String == "iam")
                #expect(config["stsEndpoint"] as? String == "https://sts.amazonaws.com/")
                #expect(config["accessTokenTTL"] as? Int == 600)
                #expect(config["iamServerIdHeaderConfigured"] as? Bool == true)
                #expect(!attached.text.contains("kms.example.com"), "the server-ID value is not echoed")
                #expect(try await api.call(.post, base, token: admin.token, json: [:]).status == 400, "attaching twice")
                #expect(try await api.call(.get, "/api/v1/identities/\(id)", token: admin.token).object("identity")["authMethods"] as? [String] == ["aws-auth"])

                let updated = try await api.call(.patch, base, token: admin.token, json: ["allowedAccountIds": "123456789012,210987654321", "accessTokenNumUsesLimit": 3])
                #expect(updated.object("identityAwsAuth")["allowedAccountIds"] as? String == "123456789012,210987654321")
                #expect(updated.object("identityAwsAuth")["accessTokenNumUsesLimit"] as? Int == 3)
                #expect(updated.object("identityAwsAuth")["accessTokenTTL"] as? Int == 600, "absent fields keep their value")
                #expect(try await api.call(.get, base, token: admin.token).status == 200)
                #expect(try await api.call(.delete, base, token: admin.token).status == 200)
                #expect(try await api.call(.get, base, token: admin.token).status == 404)

                let audit = try await api.call(.get, "/api/v1/organizations/\(admin.orgId)/audit-logs?limit=200", token: admin.token)
                let types = Set((audit["auditLogs"] as? [[String: Any]] ?? []).compactMap { $0["eventType"] as? String })
                #expect(types.isSuperset(of: ["aws-auth-attached", "aws-auth-updated", "aws-auth-read", "aws-auth-revoked"]))

                // A login is checked the same way whether the identity has AWS Auth, has none, or does
                // not exist: the answers are identical, so they are no oracle of what exists.
                func login(_ identityId: String) async throws -> Reply {
                    try await api.call(.post, "/api/v1/auth/aws-auth/login", json: ["identityId": identityId, "iamHttpRequestMethod": "POST",
                                                                                   "iamRequestBody": Data("Action=GetCallerIdentity&Version=2011-06-15".utf8).base64EncodedString(),
                                                                                   "iamRequestHeaders": "{}"])
                }
                let withoutAWSAuth = try await login(id)
                let unknown = try await login(SecureRandom.id())
                #expect(withoutAWSAuth.status == 400)
                #expect(withoutAWSAuth.status == unknown.status && withoutAWSAuth["message"] as? String == unknown["message"] as? String)
                let malformed = try await api.call(.post, "/api/v1/auth/aws-auth/login", json: ["identityId": id, "iamHttpRequestMethod": "POST",
                                                                                                  "iamRequestBody": "%%%", "iamRequestHeaders": "{}"])
                #expect(malformed.status == 400)
            }
        }
    }
}
