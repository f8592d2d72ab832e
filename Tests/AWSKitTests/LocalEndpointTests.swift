import AWSKit
import AsyncHTTPClient
import Foundation
import Hummingbird
import Testing

/// Credential providers, retries and federation against small servers on loopback.
@Suite("AWSKit against local endpoints", .serialized)
struct LocalEndpointTests {
    }

private let expiry = "2099-01-01T00:00:00Z"

private func header(_ request: Request, _ name: String) -> String? {
    request.headers.first { $0.name.canonicalName == name.lowercased() }?.value
}

private func credentialJSON(_ id: String) -> String {
    #"{"Code":"Success","AccessKeyId":"\#(id)","SecretAccessKey":"secret-\#(id)","Token":"token-\#(id)","Expiration":"\#(expiry)"}"#
}

extension LocalEndpointTests {

    @Test func instanceMetadataV2RequiresTheSessionToken() async throws {
        let router = Router()
        let calls = Counter()
        router.put("/latest/api/token") { request, _ -> String in
            guard header(request, "X-aws-ec2-metadata-token-ttl-seconds") == "21600" else { throw HTTPError(.badRequest) }
            return "imds-session"
        }
        router.get("/latest/meta-data/iam/security-credentials/") { request, _ -> String in
            guard header(request, "X-aws-ec2-metadata-token") == "imds-session" else { throw HTTPError(.unauthorized) }
            return "web-role\n"
        }
        router.get("/latest/meta-data/iam/security-credentials/web-role") { request, _ -> String in
            guard header(request, "X-aws-ec2-metadata-token") == "imds-session" else { throw HTTPError(.unauthorized) }
            calls.next()
            return credentialJSON("ASIAIMDS")
        }
        router.get("/latest/meta-data/placement/region") { _, _ in "eu-central-1" }
        try await LocalServer.with(router) { url in
            let env = ["AWS_EC2_METADATA_SERVICE_ENDPOINT": url]
            let imds = InstanceMetadataCredentialProvider(environment: env, httpClient: .shared)
            let creds = try #require(try await imds.resolve())
            #expect(creds.accessKeyId == "ASIAIMDS")
            #expect(creds.sessionToken == "token-ASIAIMDS")
            #expect(creds.expiration == parseISO8601(expiry))
            #expect(try await imds.region() == "eu-central-1")
            // The whole default chain falls through to IMDS when nothing else is configured.
            let query = AWSQueryClient()
            let chain = DefaultCredentialChain(environment: env.merging(["HOME": "/nonexistent"]) { a, _ in a }, query: query, httpClient: .shared)
            #expect(try await chain.credentials().accessKeyId == "ASIAIMDS")
            try await query.shutdown()
            let disabled = InstanceMetadataCredentialProvider(environment: env.merging(["AWS_EC2_METADATA_DISABLED": "true"]) { a, _ in a }, httpClient: .shared)
            #expect(try await disabled.resolve() == nil)
            #expect(calls.count == 2)
        }
    }

    @Test func containerCredentialsSendTheAuthorizationToken() async throws {
        let router = Router()
        router.get("/v2/credentials/abc") { request, _ -> String in
            guard request.headers[.authorization] == "secret-ecs-token" else { throw HTTPError(.forbidden) }
            return credentialJSON("ASIAECS")
        }
        try await LocalServer.with(router) { url in
            let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("ecs-\(UUID().uuidString)")
            try "secret-ecs-token\n".write(to: tokenFile, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: tokenFile) }
            let viaFile = ContainerCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": url + "/v2/credentials/abc",
                                                                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile.path], httpClient: .shared)
            #expect(try await viaFile.resolve()?.accessKeyId == "ASIAECS")
            let viaEnv = ContainerCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": url + "/v2/credentials/abc",
                                                                   "AWS_CONTAINER_AUTHORIZATION_TOKEN": "secret-ecs-token"], httpClient: .shared)
            #expect(try await viaEnv.resolve()?.sessionToken == "token-ASIAECS")
            let wrongToken = ContainerCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": url + "/v2/credentials/abc",
                                                                       "AWS_CONTAINER_AUTHORIZATION_TOKEN": "nope"], httpClient: .shared)
            await #expect(throws: AWSError.self) { try await wrongToken.resolve() }
            let remoteHTTP = ContainerCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://203.0.113.7/creds"], httpClient: .shared)
            await #expect(throws: AWSError.self) { try await remoteHTTP.resolve() }
            #expect(try await ContainerCredentialProvider(environment: [:], httpClient: .shared).resolve() == nil)
        }
    }

    @Test func environmentProviderAndChainOrder() async throws {
        let env = ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token",
                   "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"]
        #expect(try await EnvironmentCredentialProvider(environment: env).resolve() == AWSCredentials(accessKeyId: "AKIAENV", secretAccessKey: "env-secret", sessionToken: "env-token"))
        await #expect(throws: AWSError.self) { try await EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "x"]).resolve() }
        let query = AWSQueryClient()
        let chain = DefaultCredentialChain(environment: env, query: query, httpClient: .shared)
        #expect(try await chain.credentials().accessKeyId == "AKIAENV")
        let empty = DefaultCredentialChain(environment: ["AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"], query: query, httpClient: .shared)
        await #expect(throws: AWSError.self) { try await empty.credentials() }
        try await query.shutdown()
        #expect(!String(describing: AWSCredentials(accessKeyId: "A", secretAccessKey: "very-secret", sessionToken: "tok")).contains("very-secret"))
    }

    @Test func cachingRefreshesOncePerExpiryForConcurrentCallers() async throws {
        let router = Router()
        let calls = Counter()
        router.get("/creds") { _, _ -> String in
            let n = calls.next()
            try await Task.sleep(for: .milliseconds(100))
            // The first credentials expire within the refresh margin, the second do not.
            let expiry = n == 1 ? ISO8601DateFormatter().string(from: Date().addingTimeInterval(60)) : "2099-01-01T00:00:00Z"
            return #"{"AccessKeyId":"ASIA\#(n)","SecretAccessKey":"s","Token":"t","Expiration":"\#(expiry)"}"#
        }
        try await LocalServer.with(router) { url in
            let base = ContainerCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": url + "/creds"], httpClient: .shared)
            let cache = CachingCredentialProvider(base, refreshMargin: 300)
            let first = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 { group.addTask { try await cache.credentials().accessKeyId } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(first == ["ASIA1"])
            #expect(calls.count == 1)
            // ASIA1 expires inside the margin, so the next call refreshes, once.
            let second = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 { group.addTask { try await cache.credentials().accessKeyId } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(second == ["ASIA2"])
            #expect(calls.count == 2)
            #expect(try await cache.credentials().accessKeyId == "ASIA2")
            #expect(calls.count == 2)
        }
    }

    static var identityXML: String { """
        <GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>\
        <Arn>arn:aws:iam::123456789012:user/a</Arn><UserId>AIDA</UserId><Account>123456789012</Account>\
        </GetCallerIdentityResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>
        """ }

    static func errorXML(_ code: String) -> String {
        "<ErrorResponse><Error><Type>Sender</Type><Code>\(code)</Code><Message>m</Message></Error><RequestId>req-9</RequestId></ErrorResponse>"
    }

    static func xml(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "text/xml"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    @Test func retriesThrottlingAnd5xxButNotOther4xx() async throws {
        let router = Router()
        let calls = Counter()
        let mode = ModeBox()
        router.post("/") { _, _ -> Response in
            let n = calls.next()
            switch mode.value {
            case "flaky": return n <= 2 ? Self.xml(.serviceUnavailable, Self.errorXML("ServiceUnavailable")) : Self.xml(.ok, Self.identityXML)
            case "throttled": return n <= 2 ? Self.xml(.badRequest, Self.errorXML("Throttling")) : Self.xml(.ok, Self.identityXML)
            case "denied": return Self.xml(.forbidden, Self.errorXML("AccessDenied"))
            default: return Self.xml(.internalServerError, Self.errorXML("InternalFailure"))
            }
        }
        try await LocalServer.with(router) { url in
            var config = AWSClientConfiguration()
            config.baseDelay = .milliseconds(5)
            config.maxDelay = .milliseconds(20)
            config.maxAttempts = 4
            let query = AWSQueryClient(endpoints: AWSEndpointResolver(environment: ["AWS_ENDPOINT_URL_STS": url]), configuration: config)
            let sts = STSClient(query: query, region: "us-east-1", credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: "A", secretAccessKey: "s")))

            mode.value = "flaky"
            #expect(try await sts.getCallerIdentity().account == "123456789012")
            #expect(calls.count == 3)

            mode.value = "throttled"
            calls.reset()
            #expect(try await sts.getCallerIdentity().userId == "AIDA")
            #expect(calls.count == 3)

            mode.value = "denied"
            calls.reset()
            await #expect { try await sts.getCallerIdentity() } throws: { ($0 as? AWSError) == .service(code: "AccessDenied", message: "m", requestId: "req-9", status: 403) }
            #expect(calls.count == 1, "a 4xx other than throttling is not retried")

            mode.value = "broken"
            calls.reset()
            await #expect { try await sts.getCallerIdentity() } throws: { ($0 as? AWSError)?.code == "InternalFailure" }
            #expect(calls.count == 4, "bounded by maxAttempts")
            try await query.shutdown()
        }
        // Connection refused is retried, then surfaces as a transport error.
        var config = AWSClientConfiguration()
        config.baseDelay = .milliseconds(5)
        config.maxAttempts = 3
        config.connectTimeout = .milliseconds(300)
        let dead = AWSQueryClient(endpoints: AWSEndpointResolver(environment: ["AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9"]), configuration: config)
        let sts = STSClient(query: dead, region: "us-east-1", credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: "A", secretAccessKey: "s")))
        await #expect { try await sts.getCallerIdentity() } throws: { if case .transport = $0 as? AWSError { true } else { false } }
        try await dead.shutdown()
    }

    /// moto ignores MaxItems, so pagination is checked against a server that pages for real.
    @Test func paginationFollowsMarkersToTheEnd() async throws {
        let router = Router()
        let markers = ModeBox()
        router.post("/") { request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
            let marker = SigV4Encoding.parseQuery(body).first { $0.0 == "Marker" }?.1 ?? ""
            markers.value += marker + ";"
            let page: (names: [String], next: String?) = switch marker {
            case "": (["g0", "g1"], "m1")
            case "m1": (["g2", "g3"], "m2")
            default: (["g4"], nil)
            }
            let members = page.names.map { "<member><GroupName>\($0)</GroupName></member>" }.joined()
            let tail = page.next.map { "<IsTruncated>true</IsTruncated><Marker>\($0)</Marker>" } ?? "<IsTruncated>false</IsTruncated>"
            return Self.xml(.ok, "<ListGroupsForUserResponse><ListGroupsForUserResult><Groups>\(members)</Groups>\(tail)</ListGroupsForUserResult></ListGroupsForUserResponse>")
        }
        try await LocalServer.with(router) { url in
            let query = AWSQueryClient(endpoints: AWSEndpointResolver(environment: ["AWS_ENDPOINT_URL_IAM": url]))
            let iam = IAMClient(query: query, credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: "A", secretAccessKey: "s")))
            #expect(try await iam.listGroupsForUser(user: "u") == ["g0", "g1", "g2", "g3", "g4"])
            #expect(markers.value == ";m1;m2;")
            try await query.shutdown()
        }
    }

    @Test func redirectsAreNotFollowed() async throws {
        let router = Router()
        let followed = Counter()
        router.post("/") { _, _ in Response(status: .temporaryRedirect, headers: [.location: "/elsewhere"]) }
        router.post("/elsewhere") { _, _ -> Response in followed.next(); return Self.xml(.ok, Self.identityXML) }
        try await LocalServer.with(router) { url in
            let query = AWSQueryClient(endpoints: AWSEndpointResolver(environment: ["AWS_ENDPOINT_URL_STS": url]))
            let sts = STSClient(query: query, region: "us-east-1", credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: "A", secretAccessKey: "s")))
            await #expect(throws: AWSError.self) { try await sts.getCallerIdentity() }
            #expect(followed.count == 0)
            try await query.shutdown()
        }
    }

    @Test func consoleFederationExchangesTheSessionForASigninToken() async throws {
        let router = Router()
        let seen = ModeBox()
        router.get("/federation") { request, _ -> Response in
            let params = request.uri.queryParameters
            guard params["Action"] == "getSigninToken", let session = params["Session"].map(String.init),
                  let json = try? JSONSerialization.jsonObject(with: Data(session.utf8)) as? [String: String],
                  json["sessionId"] == "ASIAFED", json["sessionKey"] == "fed-secret", json["sessionToken"] == "fed-token" else {
                return Response(status: .badRequest)
            }
            seen.value = session
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"SigninToken":"tok-123"}"#)))
        }
        try await LocalServer.with(router) { url in
            let federation = ConsoleFederation(httpClient: .shared, endpointOverride: URL(string: url + "/federation"))
            let creds = AWSCredentials(accessKeyId: "ASIAFED", secretAccessKey: "fed-secret", sessionToken: "fed-token")
            let token = try await federation.signinToken(credentials: creds, partition: .aws)
            #expect(token == "tok-123")
            let login = federation.loginURL(signinToken: token, issuer: "https://kms.example.com", destination: AWSPartition.aws.consoleURL, partition: .aws)
            #expect(login == url + "/federation?Action=login&Issuer=https%3A%2F%2Fkms.example.com&Destination=https%3A%2F%2Fconsole.aws.amazon.com%2F&SigninToken=tok-123")
            await #expect(throws: AWSError.self) {
                try await federation.signinToken(credentials: AWSCredentials(accessKeyId: "ASIAFED", secretAccessKey: "wrong", sessionToken: "fed-token"), partition: .aws)
            }
            await #expect(throws: AWSError.self) {
                try await federation.signinToken(credentials: AWSCredentials(accessKeyId: "AKIA", secretAccessKey: "long-term"), partition: .aws)
            }
        }
        #expect(ConsoleFederation(httpClient: .shared).endpoint(for: .awsUSGov).absoluteString == "https://signin.amazonaws-us-gov.com/federation")
        #expect(ConsoleFederation(httpClient: .shared).endpoint(for: .awsCN).absoluteString == "https://signin.amazonaws.cn/federation")
        #expect(AWSPartition.awsCN.consoleURL == "https://console.amazonaws.cn/")
    }
}

final class ModeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var _value = ""
    var value: String {
        get { lock.lock(); defer { lock.unlock() }; return _value }
        set { lock.lock(); _value = newValue; lock.unlock() }
    }
}
