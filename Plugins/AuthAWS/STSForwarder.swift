import AWSKit
import AsyncHTTPClient
import Core
import Foundation
import NIOCore
import NIOFoundationCompat

/// Sends a validated login request to STS and reads the caller out of the answer. The target
/// is chosen by the server: a real STS host of a real partition, or the operator's
/// `AWS_ENDPOINT_URL_STS` override (where the client's signed Host header is kept).
struct STSForwarder: Sendable {
    let httpClient: HTTPClient
    let endpoints: AWSEndpointResolver
    /// The STS round trip of each login, the part of its time that is AWS's.
    private let roundTrip = LatencyMetric(label: "kms_aws_auth_sts_seconds")

    init(httpClient: HTTPClient, endpoints: AWSEndpointResolver) {
        self.httpClient = httpClient
        self.endpoints = endpoints
    }

    /// The URL to send to, or a 400 when the client named a host that is not STS.
    func target(for request: SignedLoginRequest) throws -> URL {
        let hostOnly = String(request.host.split(separator: ":").first ?? "")
        guard request.host == hostOnly || request.host == hostOnly + ":443",
              let real = AWSEndpointResolver.isRealSTSHost(hostOnly) else {
            throw APIError.badRequest("the signed Host \(request.host) is not an AWS STS endpoint")
        }
        if hostOnly != "sts.amazonaws.com", real.region != request.authorization.region {
            throw APIError.badRequest("the signed Host is in \(real.region) but the signature is for \(request.authorization.region)")
        }
        // The operator's override (a private endpoint, or an emulator in tests) decides where to
        // connect; the client's signed Host, checked above, is sent unchanged.
        return endpoints.override(for: .sts) ?? URL(string: "https://\(hostOnly)/")!
    }

    /// Forwards exactly the signed headers (plus Authorization, the session token and
    /// Content-Length), follows no redirect, and returns the caller's ARN, account and user id.
    func callerIdentity(_ request: SignedLoginRequest) async throws -> CallerIdentity {
        let url = try target(for: request)
        var http = HTTPClientRequest(url: url.absoluteString)
        http.method = .POST
        var forwarded = Set(request.authorization.signedHeaders)
        forwarded.formUnion(["authorization", "x-amz-security-token"])
        forwarded.remove("content-length")
        for name in forwarded.sorted() {
            if let value = request.headers[name] { http.headers.add(name: name, value: value) }
        }
        http.body = .bytes(ByteBuffer(bytes: request.body))
        http.headers.replaceOrAdd(name: "content-length", value: String(request.body.count))
        let response: HTTPClientResponse
        do {
            response = try await roundTrip.measure { try await httpClient.execute(http, timeout: .seconds(15)) }
        } catch {
            throw APIError.badGateway("AWS STS could not be reached: \(String(describing: type(of: error)))")
        }
        let body = Data(buffer: try await response.body.collect(upTo: 1 << 20))
        let status = Int(response.status.code)
        if (300..<400).contains(status) { throw APIError.badGateway("AWS STS answered with a redirect (HTTP \(status)), which is never followed") }
        if status == 403 || status == 400 {
            let code = (try? XMLNode.parse(body)).flatMap { $0.value("Error", "Code") } ?? "HTTP\(status)"
            throw APIError.unauthorized("AWS STS refused the signed request: \(code)")
        }
        guard status == 200 else { throw APIError.badGateway("AWS STS answered HTTP \(status)") }
        let contentType = response.headers.first(name: "content-type")?.lowercased() ?? ""
        guard contentType.hasPrefix("text/xml") else { throw APIError.badGateway("AWS STS answered \(contentType.isEmpty ? "without a content type" : contentType), not text/xml") }
        let root: XMLNode
        do { root = try XMLNode.parse(body) } catch { throw APIError.badGateway("AWS STS answered malformed XML") }
        guard root.name == "GetCallerIdentityResponse" else { throw APIError.badGateway("AWS STS answered \(root.name), not GetCallerIdentityResponse") }
        let results = root.all("GetCallerIdentityResult")
        guard results.count == 1, let result = results.first else { throw APIError.badGateway("AWS STS answered \(results.count) results instead of one") }
        for field in ["Arn", "Account", "UserId"] where result.all(field).count != 1 {
            throw APIError.badGateway("AWS STS answered without exactly one \(field)")
        }
        guard let arn = result.value("Arn"), let account = result.value("Account"), let userId = result.value("UserId") else {
            throw APIError.badGateway("AWS STS answered an incomplete identity")
        }
        return CallerIdentity(account: account, arn: arn, userId: userId)
    }
}
