import AWSKit
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// The client side of AWS Auth: signs an STS GetCallerIdentity request with the workload's
/// own AWS credentials and exchanges it at a kms server for an access token. `kms login aws`
/// is built on it; any Swift workload can use it directly.
public struct AWSAuthLoginClient: Sendable {
    /// What the server answers.
    public struct Result: Codable, Sendable {
        public let accessToken: String
        public let expiresIn: Int
        public let accessTokenMaxTTL: Int
        public let tokenType: String
    }

    public let serverURL: String
    public let region: String
    public let credentials: any AWSCredentialProvider
    public let httpClient: HTTPClient
    /// Signed as `X-KMS-AWS-IAM-Server-ID` when the identity requires it.
    public let serverIdHeader: String?

    public init(serverURL: String, region: String, credentials: any AWSCredentialProvider, httpClient: HTTPClient = .shared, serverIdHeader: String? = nil) {
        self.serverURL = serverURL.hasSuffix("/") ? String(serverURL.dropLast()) : serverURL
        self.region = region
        self.credentials = credentials
        self.httpClient = httpClient
        self.serverIdHeader = serverIdHeader
    }

    /// The signed request, as the login body carries it: the exact body and the headers.
    public func signedRequest(now: Date = Date()) async throws -> (body: String, headers: [String: String]) {
        let body = "Action=GetCallerIdentity&Version=2011-06-15"
        let host = "sts.\(region).\(AWSPartition.of(region: region).dnsSuffix)"
        var headers: [(String, String)] = [("Host", host), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
                                           ("Content-Length", String(body.utf8.count))]
        if let serverIdHeader { headers.append(("X-KMS-AWS-IAM-Server-ID", serverIdHeader)) }
        let signer = SigV4Signer(credentials: try await credentials.credentials(), region: region, service: "sts")
        let signed = signer.sign(SigV4Request(method: "POST", path: "/", headers: headers, body: Array(body.utf8)), date: now).request
        // Content-Length is signed but not sent, as the official SDKs do; the server re-adds it.
        let out = Dictionary(signed.headers.filter { $0.0.lowercased() != "content-length" }, uniquingKeysWith: { a, _ in a })
        return (body, out)
    }

    /// Logs `identityId` in and returns the access token.
    public func login(identityId: String) async throws -> Result {
        let (body, headers) = try await signedRequest()
        let payload: [String: String] = [
            "identityId": identityId, "iamHttpRequestMethod": "POST",
            "iamRequestBody": Data(body.utf8).base64EncodedString(),
            "iamRequestHeaders": try JSONSerialization.data(withJSONObject: headers, options: [.sortedKeys]).base64EncodedString(),
        ]
        var request = HTTPClientRequest(url: serverURL + "/api/v1/auth/aws-auth/login")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: payload)))
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, timeout: .seconds(30))
        } catch {
            throw LoginError(message: "cannot reach \(serverURL): \(error)")
        }
        let data = Data(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status == .ok else {
            let message = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["message"] as? String ?? "HTTP \(response.status.code)"
            throw LoginError(message: "login refused (\(response.status.code)): \(message)")
        }
        do {
            return try JSONDecoder().decode(Result.self, from: data)
        } catch {
            throw LoginError(message: "the server answered an unexpected login response")
        }
    }

    /// A failed login, with a message fit for a terminal.
    public struct LoginError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }
}
