import Crypto
import Foundation

/// AWS Signature Version 4: canonical request, string to sign, signing key, and the
/// `Authorization` header or presigned query. Held to AWS's published test suites.
public struct SigV4Signer: Sendable {
    public let credentials: AWSCredentials
    public let region: String
    public let service: String
    /// Remove `.`/`..` segments and repeated slashes from the path (every service but S3).
    public var normalizePath = true
    /// Add and sign `X-Amz-Content-SHA256`.
    public var signBodyHeader = false
    /// Add the session token after signing instead of signing it (a few services want that).
    public var omitSessionToken = false

    public static let algorithm = "AWS4-HMAC-SHA256"

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    // MARK: Dates

    /// `YYYYMMDD'T'HHMMSS'Z'`, the `X-Amz-Date` format. Formatted by hand: a `DateFormatter`
    /// per call was a tenth of an AWS Auth login's CPU time.
    public static func amzDate(_ date: Date) -> String {
        var seconds = time_t(floor(date.timeIntervalSince1970))
        var t = tm()
        gmtime_r(&seconds, &t)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return "\(pad(t.tm_year + 1900, 4))\(pad(t.tm_mon + 1, 2))\(pad(t.tm_mday, 2))T\(pad(t.tm_hour, 2))\(pad(t.tm_min, 2))\(pad(t.tm_sec, 2))Z"
    }

    /// Parses an `X-Amz-Date` value (`YYYYMMDD'T'HHMMSS'Z'`, UTC); nil for anything else.
    public static func parseAmzDate(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count == 16, b[8] == UInt8(ascii: "T"), b[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var n: Int32 = 0
            for i in range {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) else { return nil }
                n = n * 10 + Int32(b[i] - UInt8(ascii: "0"))
            }
            return n
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8), let hour = number(9..<11),
              let minute = number(11..<13), let second = number(13..<15),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else { return nil }
        var t = tm()
        t.tm_year = year - 1900
        t.tm_mon = month - 1
        t.tm_mday = day
        t.tm_hour = hour
        t.tm_min = minute
        t.tm_sec = second
        let seconds = timegm(&t)
        // timegm normalises out-of-range days (Feb 31): such a date is not a date.
        guard t.tm_mday == day, t.tm_mon == month - 1 else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    // MARK: Canonical forms

    /// The canonical URI of a raw request path.
    public func canonicalPath(_ rawPath: String) -> String {
        var path = rawPath.isEmpty ? "/" : rawPath
        if normalizePath {
            var out: [Substring] = []
            for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
                if segment == "." { continue }
                if segment == ".." { _ = out.popLast(); continue }
                out.append(segment)
            }
            let trailing = path.hasSuffix("/") && !out.isEmpty
            path = "/" + out.joined(separator: "/") + (trailing ? "/" : "")
        }
        return SigV4Encoding.encode(path, keepSlash: true)
    }

    /// The canonical query: encoded pairs sorted by key, then value.
    public static func canonicalQuery(_ query: [(String, String)]) -> String {
        let encoded: [(key: String, value: String)] = query.map { (SigV4Encoding.encode($0.0), SigV4Encoding.encode($0.1)) }
        // Encoded pairs are ASCII, so byte order is the order AWS sorts by.
        let sorted = encoded.sorted { a, b in
            a.key == b.key ? a.value.utf8.lexicographicallyPrecedes(b.value.utf8) : a.key.utf8.lexicographicallyPrecedes(b.key.utf8)
        }
        return sorted.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
    }

    /// Trims a header value and folds runs of whitespace (including line folds) to one space.
    static func canonicalValue(_ value: String) -> String {
        var out = ""
        var pendingSpace = false
        // Scalars, not Characters: "\r\n" is one Character that equals neither "\r" nor "\n".
        for ch in value.unicodeScalars {
            if ch == " " || ch == "\t" || ch == "\n" || ch == "\r" {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" "); pendingSpace = false }
                out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// Canonical headers for `names` (lower-case), values of repeated fields joined by commas.
    static func canonicalHeaders(_ headers: [(String, String)], names: [String]) -> String {
        var grouped: [String: [String]] = [:]
        for (name, value) in headers { grouped[name.lowercased(), default: []].append(canonicalValue(value)) }
        return names.map { "\($0):\(grouped[$0, default: []].joined(separator: ","))\n" }.joined()
    }

    /// Lower-case hex of bytes.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0x0F)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Lower-case hex SHA-256.
    public static func hexSHA256(_ bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    /// The canonical request of `request`, signing `signedHeaders` (lower-case names, sorted).
    public func canonicalRequest(_ request: SigV4Request, signedHeaders: [String], payloadHash: String) -> String {
        [request.method.uppercased(), canonicalPath(request.path), Self.canonicalQuery(request.query),
         Self.canonicalHeaders(request.headers, names: signedHeaders), signedHeaders.joined(separator: ";"), payloadHash]
            .joined(separator: "\n")
    }

    public func scope(_ date: Date) -> String {
        "\(String(Self.amzDate(date).prefix(8)))/\(region)/\(service)/aws4_request"
    }

    public func stringToSign(canonicalRequest: String, date: Date) -> String {
        [Self.algorithm, Self.amzDate(date), scope(date), Self.hexSHA256(Array(canonicalRequest.utf8))].joined(separator: "\n")
    }

    /// The derived signing key for the date's day.
    public func signingKey(_ date: Date) -> SymmetricKey {
        func hmac(_ key: SymmetricKey, _ text: String) -> SymmetricKey {
            SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key)))
        }
        let day = String(Self.amzDate(date).prefix(8))
        let kDate = hmac(SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8)), day)
        return hmac(hmac(hmac(kDate, region), service), "aws4_request")
    }

    public func signature(stringToSign: String, date: Date) -> String {
        Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(date)))
    }

    // MARK: Signing

    /// The result of signing: the request with its new headers, and the intermediate forms.
    public struct Signed: Sendable {
        public let request: SigV4Request
        public let canonicalRequest: String
        public let stringToSign: String
        public let signature: String
        public let signedHeaders: [String]
    }

    /// Signs with an `Authorization` header, adding `X-Amz-Date` (and the session token and
    /// payload hash headers as configured). Existing `Host` and other headers are signed.
    public func sign(_ request: SigV4Request, date: Date) -> Signed {
        var request = request
        request.setHeader("X-Amz-Date", Self.amzDate(date))
        let payloadHash = Self.hexSHA256(request.body)
        if signBodyHeader { request.setHeader("X-Amz-Content-SHA256", payloadHash) }
        if let token = credentials.sessionToken, !omitSessionToken { request.setHeader("X-Amz-Security-Token", token) }
        let names = Array(Set(request.headers.map { $0.0.lowercased() }).subtracting(["authorization"])).sorted()
        let creq = canonicalRequest(request, signedHeaders: names, payloadHash: payloadHash)
        let sts = stringToSign(canonicalRequest: creq, date: date)
        let sig = signature(stringToSign: sts, date: date)
        request.setHeader("Authorization", "\(Self.algorithm) Credential=\(credentials.accessKeyId)/\(scope(date)), SignedHeaders=\(names.joined(separator: ";")), Signature=\(sig)")
        if let token = credentials.sessionToken, omitSessionToken { request.setHeader("X-Amz-Security-Token", token) }
        return Signed(request: request, canonicalRequest: creq, stringToSign: sts, signature: sig, signedHeaders: names)
    }

    /// Presigns with query parameters valid for `expires` seconds; the headers present are signed.
    public func presign(_ request: SigV4Request, date: Date, expires: Int) -> Signed {
        var request = request
        let names = Array(Set(request.headers.map { $0.0.lowercased() })).sorted()
        var query = request.query
        query += [("X-Amz-Algorithm", Self.algorithm), ("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope(date))"),
                  ("X-Amz-Date", Self.amzDate(date)), ("X-Amz-Expires", String(expires)),
                  ("X-Amz-SignedHeaders", names.joined(separator: ";"))]
        if let token = credentials.sessionToken, !omitSessionToken { query.append(("X-Amz-Security-Token", token)) }
        request.query = query
        let payloadHash = Self.hexSHA256(request.body)
        let creq = canonicalRequest(request, signedHeaders: names, payloadHash: payloadHash)
        let sts = stringToSign(canonicalRequest: creq, date: date)
        let sig = signature(stringToSign: sts, date: date)
        request.query.append(("X-Amz-Signature", sig))
        if let token = credentials.sessionToken, omitSessionToken { request.query.append(("X-Amz-Security-Token", token)) }
        return Signed(request: request, canonicalRequest: creq, stringToSign: sts, signature: sig, signedHeaders: names)
    }
}
