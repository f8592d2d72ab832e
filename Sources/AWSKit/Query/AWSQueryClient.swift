import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOFoundationCompat

/// Timeouts and retry policy of the Query client.
public struct AWSClientConfiguration: Sendable {
    public var connectTimeout: TimeAmount = .seconds(5)
    public var requestTimeout: TimeAmount = .seconds(20)
    /// Total attempts for a retryable failure (throttling, 5xx, connection errors).
    public var maxAttempts = 4
    /// Base and cap of the exponential backoff; each wait is a random time up to the bound.
    public var baseDelay: Duration = .milliseconds(100)
    public var maxDelay: Duration = .seconds(5)

    public init() {}
}

/// A minimal AWS Query-protocol client: form-encoded POSTs signed with SigV4, XML answers
/// decoded strictly, AWS errors typed, retries with exponential backoff and full jitter.
public final class AWSQueryClient: Sendable {
    public let httpClient: HTTPClient
    public let endpoints: AWSEndpointResolver
    public let configuration: AWSClientConfiguration
    let logger: Logger
    private let ownsClient: Bool

    public init(httpClient: HTTPClient? = nil, endpoints: AWSEndpointResolver = AWSEndpointResolver(),
                configuration: AWSClientConfiguration = AWSClientConfiguration(), logger: Logger = Logger(label: "aws")) {
        self.httpClient = httpClient ?? AWSQueryClient.makeHTTPClient(configuration)
        self.ownsClient = httpClient == nil
        self.endpoints = endpoints
        self.configuration = configuration
        self.logger = logger
    }

    /// An HTTP client that never follows redirects.
    public static func makeHTTPClient(_ configuration: AWSClientConfiguration = AWSClientConfiguration()) -> HTTPClient {
        var config = HTTPClient.Configuration()
        config.redirectConfiguration = .disallow
        config.timeout = .init(connect: configuration.connectTimeout, read: configuration.requestTimeout)
        config.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    /// Shuts the HTTP client down when this client created it.
    public func shutdown() async throws {
        if ownsClient { try await httpClient.shutdown() }
    }

    static let versions: [AWSService: String] = [.sts: "2011-06-15", .iam: "2010-05-08"]

    /// Calls `action` and returns its `<ActionResult>` element.
    public func call(_ service: AWSService, _ action: String, _ parameters: [(String, String)] = [],
                     region: String, credentials: AWSCredentials?) async throws -> XMLNode {
        let endpoint = endpoints.endpoint(service, region: region)
        let body = SigV4Encoding.form([("Action", action), ("Version", Self.versions[service]!)] + parameters)
        var attempt = 0
        while true {
            attempt += 1
            do {
                let root = try await send(endpoint: endpoint, service: service, body: body, credentials: credentials)
                guard root.name == "\(action)Response" else {
                    throw AWSError.invalidResponse("expected \(action)Response, got \(root.name)")
                }
                return root.child("\(action)Result") ?? XMLNode(name: "\(action)Result", children: [], text: "")
            } catch let error as AWSError where error.isRetryable && attempt < configuration.maxAttempts {
                let delay = backoff(attempt: attempt)
                logger.debug("retrying AWS call", metadata: ["action": "\(action)", "attempt": "\(attempt)", "error": "\(error)"])
                try await Task.sleep(for: delay)
            }
        }
    }

    /// Calls a paginated list action, following `Marker` while `IsTruncated` is true, and
    /// returns every `member` under `listName`.
    public func paginate(_ service: AWSService, _ action: String, _ parameters: [(String, String)], listName: String,
                         region: String, credentials: AWSCredentials) async throws -> [XMLNode] {
        var items: [XMLNode] = []
        var marker: String?
        var pages = 0
        repeat {
            pages += 1
            guard pages <= 1000 else { throw AWSError.invalidResponse("\(action) did not stop paginating") }
            var params = parameters
            if let marker { params.append(("Marker", marker)) }
            let result = try await call(service, action, params, region: region, credentials: credentials)
            items += result.child(listName)?.all("member") ?? []
            marker = result.value("IsTruncated") == "true" ? result.value("Marker") : nil
        } while marker != nil
        return items
    }

    /// Full-jitter backoff: a random wait up to min(cap, base * 2^(attempt-1)).
    func backoff(attempt: Int) -> Duration {
        let base = Double(configuration.baseDelay.components.attoseconds) / 1e18 + Double(configuration.baseDelay.components.seconds)
        let cap = Double(configuration.maxDelay.components.attoseconds) / 1e18 + Double(configuration.maxDelay.components.seconds)
        let bound = min(cap, base * pow(2, Double(attempt - 1)))
        return .milliseconds(Int(Double.random(in: 0...bound) * 1000))
    }

    private func send(endpoint: AWSEndpoint, service: AWSService, body: String, credentials: AWSCredentials?) async throws -> XMLNode {
        let bytes = Array(body.utf8)
        let unsigned = SigV4Request(method: "POST", path: endpoint.url.path.isEmpty ? "/" : endpoint.url.path, headers: [
            ("Host", endpoint.hostHeader), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
            ("Content-Length", String(bytes.count)),
        ], body: bytes)
        // A few calls (AssumeRoleWithWebIdentity) are made unsigned: the token is the proof.
        let signed = credentials.map { SigV4Signer(credentials: $0, region: endpoint.signingRegion, service: service.rawValue).sign(unsigned, date: Date()).request } ?? unsigned
        let (status, data, _) = try await Self.execute(httpClient, url: endpoint.url, request: signed, timeout: configuration.requestTimeout)
        return try Self.decode(status: status, data: data)
    }

    /// Sends a signed request exactly as given (no header added but those in `request`).
    public static func execute(_ client: HTTPClient, url: URL, request: SigV4Request, timeout: TimeAmount) async throws -> (Int, Data, HTTPHeaders) {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: false)!
        components.percentEncodedQuery = request.query.isEmpty ? nil : SigV4Encoding.form(request.query)
        var http = HTTPClientRequest(url: components.string ?? url.absoluteString)
        http.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers where name.lowercased() != "content-length" { http.headers.add(name: name, value: value) }
        if !request.body.isEmpty || request.method == "POST" { http.body = .bytes(ByteBuffer(bytes: request.body)) }
        do {
            let response = try await client.execute(http, timeout: timeout)
            let buffer = try await response.body.collect(upTo: 4 << 20)
            return (Int(response.status.code), Data(buffer: buffer), response.headers)
        } catch let error as AWSError {
            throw error
        } catch let error as HTTPClientError where error == .bodyLengthMismatch {
            throw AWSError.invalidResponse("response body length mismatch")
        } catch {
            throw AWSError.transport(String(describing: error))
        }
    }

    /// Turns an HTTP answer into the response root or a typed AWS error.
    static func decode(status: Int, data: Data) throws -> XMLNode {
        if (200..<300).contains(status) { return try XMLNode.parse(data) }
        if let root = try? XMLNode.parse(data), let error = root.child("Error") ?? root.path("Errors", "Error") {
            throw AWSError.service(code: error.value("Code") ?? "Unknown", message: error.value("Message") ?? "",
                                   requestId: root.value("RequestId") ?? root.value("RequestID"), status: status)
        }
        throw AWSError.service(code: "HTTP\(status)", message: String(decoding: data.prefix(200), as: UTF8.self), requestId: nil, status: status)
    }
}
