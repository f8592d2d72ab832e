import AWSKit
import Foundation
import Testing

/// Every STS and IAM operation against moto with signature checking enforced after seeding.
@Suite("AWSKit against moto", .serialized)
struct MotoIntegrationTests {
    @Test func everyOperationIsSignedAndAccepted() async throws {
        try await MotoServer.with(recording: true) { moto in
            let query = AWSQueryClient(endpoints: moto.endpoints)
            defer { Task { try? await query.shutdown() } }
            let admin = try await MotoSeed.admin(moto, query: query)
            let adminArn = "arn:aws:iam::123456789012:user/admin"
            let roleArn = try await MotoSeed.role(query, name: "target", trusting: adminArn, externalId: "project-1")
            _ = try await query.call(.iam, "CreateGroup", [("GroupName", "devs")], region: "us-east-1", credentials: admin)
            _ = try await query.call(.iam, "CreateGroup", [("GroupName", "ops")], region: "us-east-1", credentials: admin)
            let policy = try await query.call(.iam, "CreatePolicy", [("PolicyName", "read"), ("PolicyDocument", #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#)],
                                              region: "us-east-1", credentials: admin).value("Policy", "Arn") ?? ""
            try await moto.enforceAuth()

            let creds = StaticCredentialProvider(admin)
            let sts = STSClient(query: query, region: "us-east-1", credentials: creds)
            let me = try await sts.getCallerIdentity()
            #expect(me.arn == adminArn)
            #expect(me.account == "123456789012")

            // A wrong secret and an unknown key are refused by moto, as typed, unretried errors.
            let wrong = STSClient(query: query, region: "us-east-1", credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: admin.accessKeyId, secretAccessKey: "wrong")))
            await #expect { try await wrong.getCallerIdentity() } throws: { error in
                guard let e = error as? AWSError, case .service(let code, _, _, let status) = e else { return false }
                return code == "SignatureDoesNotMatch" && status == 403 && !e.isRetryable
            }
            let unknown = STSClient(query: query, region: "us-east-1", credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: "AKIAUNKNOWNKEY000000", secretAccessKey: "x")))
            await #expect { try await unknown.getCallerIdentity() } throws: { ($0 as? AWSError)?.code == "InvalidClientTokenId" }

            let assumed = try await sts.assumeRole(roleArn: roleArn, sessionName: "alice@example.com", externalId: "project-1", durationSeconds: 900,
                                                   tags: [("team", "platform")])
            #expect(assumed.assumedRoleArn == "arn:aws:sts::123456789012:assumed-role/target/alice@example.com")
            #expect(assumed.credentials.sessionToken != nil)
            #expect(assumed.credentials.expiration != nil)
            let chained = STSClient(query: query, region: "us-east-1", credentials: StaticCredentialProvider(assumed.credentials))
            #expect(try await chained.getCallerIdentity().arn == assumed.assumedRoleArn)
            let session = try await sts.getSessionToken(durationSeconds: 900)
            #expect(!session.accessKeyId.isEmpty && session.sessionToken != nil)

            let iam = IAMClient(query: query, credentials: creds)
            let user = try await iam.createUser(name: "kms-lease-1", path: "/kms/", permissionsBoundary: policy, tags: [("managed-by", "kms")])
            #expect(user.path == "/kms/")
            #expect(user.arn == "arn:aws:iam::123456789012:user/kms/kms-lease-1")
            #expect(try await iam.getUser(name: "kms-lease-1").userId == user.userId)
            try await iam.tagUser(name: "kms-lease-1", tags: [("lease", "l-1")])
            try await iam.addUserToGroup(user: "kms-lease-1", group: "devs")
            try await iam.addUserToGroup(user: "kms-lease-1", group: "ops")
            #expect(Set(try await iam.listGroupsForUser(user: "kms-lease-1")) == ["devs", "ops"])
            try await iam.removeUserFromGroup(user: "kms-lease-1", group: "ops")
            #expect(try await iam.listGroupsForUser(user: "kms-lease-1") == ["devs"])
            try await iam.attachUserPolicy(user: "kms-lease-1", policyArn: policy)
            #expect(try await iam.listAttachedUserPolicies(user: "kms-lease-1") == [policy])
            try await iam.detachUserPolicy(user: "kms-lease-1", policyArn: policy)
            #expect(try await iam.listAttachedUserPolicies(user: "kms-lease-1").isEmpty)
            try await iam.putUserPolicy(user: "kms-lease-1", name: "inline", document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}"#)
            #expect(try await iam.listUserPolicies(user: "kms-lease-1") == ["inline"])
            let key = try await iam.createAccessKey(user: "kms-lease-1")
            #expect(try await iam.listAccessKeys(user: "kms-lease-1") == [key.accessKeyId])
            // The new user's own key works (its inline policy allows GetCallerIdentity).
            let asUser = STSClient(query: query, region: "us-east-1", credentials: StaticCredentialProvider(key))
            #expect(try await asUser.getCallerIdentity().arn == user.arn)
            try await iam.deleteUserPolicy(user: "kms-lease-1", name: "inline")
            try await iam.deleteAccessKey(user: "kms-lease-1", accessKeyId: key.accessKeyId)
            try await iam.removeUserFromGroup(user: "kms-lease-1", group: "devs")
            try await iam.deleteUser(name: "kms-lease-1")
            await #expect { try await iam.getUser(name: "kms-lease-1") } throws: { ($0 as? AWSError)?.code == "NoSuchEntity" }
            #expect(try await iam.getRole(name: "target").arn == roleArn)

            // The boundary is not stored by moto; its request recorder shows it was sent.
            let create = try #require(try await moto.recorded().first { $0.body.contains("Action=CreateUser&") && $0.body.contains("kms-lease-1") })
            #expect(create.body.contains("PermissionsBoundary=\(SigV4Encoding.encode(policy))"))
        }
    }

    @Test func webIdentityProviderExchangesTheTokenFile() async throws {
        try await MotoServer.with(recording: true) { moto in
            let query = AWSQueryClient(endpoints: moto.endpoints)
            defer { Task { try? await query.shutdown() } }
            let roleArn = try await MotoSeed.role(query, name: "irsa", trusting: "arn:aws:iam::123456789012:root")
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
            try "eyJhbGciOi.fake.jwt".write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            // moto answers AssumeRoleWithWebIdentity only with checks off; the call is unsigned anyway.
            let provider = WebIdentityCredentialProvider(environment: ["AWS_ROLE_ARN": roleArn, "AWS_WEB_IDENTITY_TOKEN_FILE": file.path, "AWS_ROLE_SESSION_NAME": "pod-1"],
                                                         query: query, region: "us-east-1")
            let creds = try #require(try await provider.resolve())
            #expect(creds.sessionToken != nil)
            let call = try #require(try await moto.recorded().first { $0.body.contains("Action=AssumeRoleWithWebIdentity") })
            #expect(call.body.contains("WebIdentityToken=eyJhbGciOi.fake.jwt"))
            #expect(call.body.contains("RoleSessionName=pod-1"))
            #expect(call.headers["Authorization"] == nil, "the call is unsigned: the token is the proof")
            // A missing token file is a clear error, not a silent skip.
            let broken = WebIdentityCredentialProvider(environment: ["AWS_ROLE_ARN": roleArn, "AWS_WEB_IDENTITY_TOKEN_FILE": "/nonexistent/token"], query: query, region: "us-east-1")
            await #expect(throws: AWSError.self) { try await broken.resolve() }
        }
    }

    @Test func profileWithSourceProfileAssumesTheRole() async throws {
        try await MotoServer.with { moto in
            let query = AWSQueryClient(endpoints: moto.endpoints)
            defer { Task { try? await query.shutdown() } }
            let admin = try await MotoSeed.admin(moto, query: query)
            let roleArn = try await MotoSeed.role(query, name: "deployer", trusting: "arn:aws:iam::123456789012:user/admin")
            try await moto.enforceAuth()
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aws-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            try """
                [base]
                aws_access_key_id = \(admin.accessKeyId)
                aws_secret_access_key = \(admin.secretAccessKey)
                """.write(to: dir.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
            try """
                [profile deploy]
                role_arn = \(roleArn)
                source_profile = base
                role_session_name = ci
                region = eu-west-1
                [profile loop-a]
                role_arn = \(roleArn)
                source_profile = loop-b
                [profile loop-b]
                role_arn = \(roleArn)
                source_profile = loop-a
                """.write(to: dir.appendingPathComponent("config"), atomically: true, encoding: .utf8)
            let env = ["AWS_SHARED_CREDENTIALS_FILE": dir.appendingPathComponent("credentials").path, "AWS_CONFIG_FILE": dir.appendingPathComponent("config").path]
            let deploy = ProfileCredentialProvider(environment: env.merging(["AWS_PROFILE": "deploy"]) { a, _ in a }, query: query)
            #expect(deploy.region() == "eu-west-1")
            let creds = try #require(try await deploy.resolve())
            let sts = STSClient(query: query, region: "us-east-1", credentials: StaticCredentialProvider(creds))
            #expect(try await sts.getCallerIdentity().arn == "arn:aws:sts::123456789012:assumed-role/deployer/ci")
            let base = ProfileCredentialProvider(environment: env.merging(["AWS_PROFILE": "base"]) { a, _ in a }, query: query)
            #expect(try await base.resolve() == admin)
            let loop = ProfileCredentialProvider(environment: env.merging(["AWS_PROFILE": "loop-a"]) { a, _ in a }, query: query)
            await #expect(throws: AWSError.self) { try await loop.resolve() }
            let none = ProfileCredentialProvider(environment: env.merging(["AWS_PROFILE": "absent"]) { a, _ in a }, query: query)
            #expect(try await none.resolve() == nil)
        }
    }
}
