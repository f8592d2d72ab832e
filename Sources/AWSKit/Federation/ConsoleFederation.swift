import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// AWS console federation: exchanges temporary credentials for a sign-in token and builds the
/// `Action=login` URL that opens the console as that session.
public struct ConsoleFederation: Sendable {
    let httpClient: HTTPClient
    /// Override of the federation endpoint (tests); otherwise the partition's sign-in host.
    let endpointOverride: URL?

    public init(httpClient: HTTPClient, endpointOverride: URL? = nil) {
        self.httpClient = httpClient
        self.endpointOverride = endpointOverride
    }

    public func endpoint(for partition: AWSPartition) -> URL {
        endpointOverride ?? URL(string: "https://\(partition.signinHost)/federation")!
    }

    /// The session JSON AWS expects (`sessionId`, `sessionKey`, `sessionToken`).
    public static func sessionJSON(_ credentials: AWSCredentials) throws -> String {
        guard let token = credentials.sessionToken else { throw AWSError.credentials("console federation needs temporary credentials") }
        let object = ["sessionId": credentials.accessKeyId, "sessionKey": credentials.secretAccessKey, "sessionToken": token]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// Calls `getSigninToken`. `sessionDuration` applies only to credentials from
    /// GetFederationToken; for role sessions AWS refuses it, so it is omitted by default.
    public func signinToken(credentials: AWSCredentials, partition: AWSPartition, sessionDuration: Int? = nil) async throws -> String {
        var items = [URLQueryItem(name: "Action", value: "getSigninToken"), URLQueryItem(name: "Session", value: try Self.sessionJSON(credentials))]
        if let sessionDuration { items.append(URLQueryItem(name: "SessionDuration", value: String(sessionDuration))) }
        let query = SigV4Encoding.form(items.map { ($0.name, $0.value ?? "") })
        let url = endpoint(for: partition).absoluteString + "?" + query
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, timeout: .seconds(15))
        } catch {
            throw AWSError.transport("federation endpoint: \(error)")
        }
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else {
            throw AWSError.service(code: "FederationHTTP\(response.status.code)", message: String(buffer: body).prefix(200).description, requestId: nil, status: Int(response.status.code))
        }
        guard let json = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any], let token = json["SigninToken"] as? String, !token.isEmpty else {
            throw AWSError.invalidResponse("federation endpoint returned no SigninToken")
        }
        return token
    }

    /// The console login URL for a sign-in token.
    public func loginURL(signinToken: String, issuer: String, destination: String, partition: AWSPartition) -> String {
        let query = SigV4Encoding.form([("Action", "login"), ("Issuer", issuer), ("Destination", destination), ("SigninToken", signinToken)])
        return endpoint(for: partition).absoluteString + "?" + query
    }
}
