import AWSKit
import Core
import Foundation

/// A client's signed `GetCallerIdentity` request as it arrives in a login, checked against
/// the rules of design.md before anything is sent anywhere.
struct SignedLoginRequest {
    let body: [UInt8]
    /// Header fields by lower-cased name (each at most once).
    let headers: [String: String]
    let authorization: SigV4Authorization
    let host: String
    let amzDate: Date

    static let exactBody = "Action=GetCallerIdentity&Version=2011-06-15"
    /// The only `X-Amz-*` headers a GetCallerIdentity request needs.
    static let allowedAmzHeaders: Set<String> = ["x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "x-amz-user-agent"]
    /// Other headers a signing SDK may add.
    static let allowedOtherHeaders: Set<String> = ["host", "content-type", "content-length", "authorization", "user-agent", "accept",
                                                   "accept-encoding", "amz-sdk-invocation-id", "amz-sdk-request", ServerIDHeader.name]

    /// Validates a login's decoded parts.
    /// - Parameters:
    ///   - method: `iamHttpRequestMethod`, which must be POST.
    ///   - url: the decoded `iamRequestUrl`, when the client sent one.
    static func validate(method: String, body rawBody: String, headers rawHeaders: [String: String], url: String?,
                         now: Date, maxSkew: TimeInterval) throws -> SignedLoginRequest {
        guard method.uppercased() == "POST" else { throw APIError.badRequest("iamHttpRequestMethod must be POST") }
        try checkBody(rawBody)
        var headers: [String: String] = [:]
        for (name, value) in rawHeaders {
            let lower = name.lowercased()
            guard headers[lower] == nil else { throw APIError.badRequest("header \(name) appears more than once") }
            guard !value.contains("\r"), !value.contains("\n") else { throw APIError.badRequest("header \(name) contains a line break") }
            if lower.hasPrefix("x-amz-") {
                guard allowedAmzHeaders.contains(lower) else { throw APIError.badRequest("header \(name) is not allowed in a login request") }
            } else if !allowedOtherHeaders.contains(lower) {
                throw APIError.badRequest("header \(name) is not allowed in a login request")
            }
            headers[lower] = value
        }
        guard let authHeader = headers["authorization"] else { throw APIError.badRequest("the signed request has no Authorization header") }
        guard let auth = SigV4Authorization(header: authHeader) else { throw APIError.badRequest("the Authorization header is not a SigV4 signature") }
        guard auth.service == "sts" else { throw APIError.badRequest("the request is signed for \(auth.service), not sts") }
        guard AWSEndpointResolver.isRegion(auth.region) else { throw APIError.badRequest("the signature's region is not a valid AWS region") }
        for required in ["host", "x-amz-date"] where !auth.signedHeaders.contains(required) {
            throw APIError.badRequest("the signature must cover the \(required) header")
        }
        for signed in auth.signedHeaders where headers[signed] == nil && signed != "content-length" {
            throw APIError.badRequest("signed header \(signed) is missing from iamRequestHeaders")
        }
        if let length = headers["content-length"], Int(length) != rawBody.utf8.count {
            throw APIError.badRequest("Content-Length does not match the body")
        }
        if let declared = headers["x-amz-content-sha256"], declared != SigV4Signer.hexSHA256(Array(rawBody.utf8)) {
            throw APIError.badRequest("X-Amz-Content-SHA256 does not match the body")
        }
        guard let host = headers["host"], !host.isEmpty else { throw APIError.badRequest("the signed request has no Host header") }
        guard let dateText = headers["x-amz-date"], let date = SigV4Signer.parseAmzDate(dateText) else {
            throw APIError.badRequest("X-Amz-Date is missing or malformed")
        }
        guard dateText.hasPrefix(auth.date) else { throw APIError.badRequest("X-Amz-Date does not match the credential scope date") }
        guard abs(date.timeIntervalSince(now)) <= maxSkew else {
            throw APIError.unauthorized("X-Amz-Date is outside the allowed window of \(Int(maxSkew)) seconds; check the client's clock")
        }
        if let url {
            guard let components = URLComponents(string: url), components.scheme == "https" || components.scheme == "http",
                  components.query == nil, components.fragment == nil, ["", "/"].contains(components.path) else {
                throw APIError.badRequest("iamRequestUrl must be an STS endpoint URL without path or query")
            }
            guard let urlHost = components.host, urlHost.lowercased() == host.split(separator: ":").first.map({ $0.lowercased() }) else {
                throw APIError.badRequest("iamRequestUrl does not match the signed Host header")
            }
        }
        return SignedLoginRequest(body: Array(rawBody.utf8), headers: headers, authorization: auth, host: host.lowercased(), amzDate: date)
    }

    /// The body must be exactly one `Action=GetCallerIdentity` and optionally `Version=2011-06-15`.
    static func checkBody(_ body: String) throws {
        let pairs = SigV4Encoding.parseQuery(body, plusAsSpace: true)
        let names = pairs.map(\.0)
        guard Set(names).count == names.count else { throw APIError.badRequest("the request body repeats a parameter") }
        let values = Dictionary(uniqueKeysWithValues: pairs)
        guard values["Action"] == "GetCallerIdentity" else { throw APIError.badRequest("the request body must be Action=GetCallerIdentity") }
        if let version = values["Version"], version != "2011-06-15" { throw APIError.badRequest("the request body has an unknown Version") }
        guard Set(values.keys).isSubset(of: ["Action", "Version"]) else {
            throw APIError.badRequest("the request body may contain only Action=GetCallerIdentity and Version")
        }
    }
}

/// The optional per-identity header that binds a signature to this server.
enum ServerIDHeader {
    static let name = "x-kms-aws-iam-server-id"

    static func check(_ request: SignedLoginRequest, expected: String?) throws {
        guard let expected else { return }
        guard let value = request.headers[name] else { throw APIError.unauthorized("the X-KMS-AWS-IAM-Server-ID header is required for this identity") }
        guard request.authorization.signedHeaders.contains(name) else { throw APIError.unauthorized("the X-KMS-AWS-IAM-Server-ID header must be signed") }
        guard SecureRandom.constantTimeEquals(value, expected) else { throw APIError.unauthorized("the X-KMS-AWS-IAM-Server-ID header does not match") }
    }
}
