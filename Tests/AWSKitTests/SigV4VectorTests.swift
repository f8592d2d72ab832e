import AWSKit
import Foundation
import Testing

/// AWS's published SigV4 suites, vendored in Tests/AWSKitTests/Vectors with their licences.
enum Vectors {
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")
    }

    static let credentials = AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let date = Date(timeIntervalSince1970: 1_440_938_160) // 2015-08-30T12:36:00Z

    static func read(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    /// Parses the suites' raw HTTP request files (header continuation lines included).
    static func parseRequest(_ text: String) throws -> SigV4Request {
        let (head, body): (Substring, Substring)
        if let range = text.range(of: "\n\n") { (head, body) = (text[..<range.lowerBound], text[range.upperBound...]) } else { (head, body) = (text[...], "") }
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let first = lines.removeFirst()
        guard let sp1 = first.firstIndex(of: " "), let sp2 = first.range(of: " HTTP/", options: .backwards) else { throw VectorError("bad request line \(first)") }
        let method = String(first[..<sp1])
        let target = String(first[first.index(after: sp1)..<sp2.lowerBound])
        var path = target, query: [(String, String)] = []
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q])
            query = SigV4Encoding.parseQuery(String(target[target.index(after: q)...]))
        }
        var headers: [(String, String)] = []
        for line in lines where !line.isEmpty {
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].1 += "\n" + line
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        return SigV4Request(method: method, path: path, query: query, headers: headers, body: Array(body.utf8))
    }

    static func cases(_ suite: String) -> [String] {
        let base = root.appendingPathComponent(suite)
        guard let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { return [] }
        var out: [String] = []
        for case let url as URL in enumerator {
            if suite == "aws-c-auth/v4", url.lastPathComponent == "context.json" { out.append(url.deletingLastPathComponent().path) }
            if suite == "aws4_testsuite", url.pathExtension == "req" { out.append(url.deletingPathExtension().path) }
        }
        return out.sorted()
    }
}

struct VectorError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

@Suite struct SigV4VectorTests {
    @Test func suitesArePresent() {
        #expect(Vectors.cases("aws4_testsuite").count == 34, "the classic suite has 34 cases under \(Vectors.root.path)")
        #expect(Vectors.cases("aws-c-auth/v4").count == 38)
    }

    /// aws4_testsuite: canonical request, string to sign and Authorization header.
    @Test(arguments: Vectors.cases("aws4_testsuite"))
    func classicSuite(base: String) throws {
        let request = try Vectors.parseRequest(try Vectors.read(URL(fileURLWithPath: base + ".req")))
        // This one case signs with temporary credentials (its token is in the expected output).
        let credentials = base.hasSuffix("get-vanilla-with-session-token")
            ? AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: Vectors.credentials.secretAccessKey,
                             sessionToken: "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267")
            : Vectors.credentials
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
        let signed = signer.sign(request, date: Vectors.date)
        #expect(signed.canonicalRequest == (try Vectors.read(URL(fileURLWithPath: base + ".creq"))))
        #expect(signed.stringToSign == (try Vectors.read(URL(fileURLWithPath: base + ".sts"))))
        #expect(signed.request.header("Authorization") == (try Vectors.read(URL(fileURLWithPath: base + ".authz"))))
        #expect(SigV4Verifier.verify(signed.request, credentials: Vectors.credentials))
    }

    struct Context: Decodable {
        struct Creds: Decodable { let access_key_id: String; let secret_access_key: String; let token: String? }
        let credentials: Creds
        let region: String
        let service: String
        let normalize: Bool
        let sign_body: Bool
        let expiration_in_seconds: Int?
        let omit_session_token: Bool?
    }

    /// aws-c-auth v4: header and query signing, with their canonical requests, strings to sign
    /// and signatures, including `sign_body`, unnormalised paths and session tokens.
    @Test(arguments: Vectors.cases("aws-c-auth/v4"))
    func awsCAuthSuite(dir: String) throws {
        let d = URL(fileURLWithPath: dir)
        let context = try JSONDecoder().decode(Context.self, from: Data(contentsOf: d.appendingPathComponent("context.json")))
        let credentials = AWSCredentials(accessKeyId: context.credentials.access_key_id, secretAccessKey: context.credentials.secret_access_key,
                                         sessionToken: context.credentials.token)
        var signer = SigV4Signer(credentials: credentials, region: context.region, service: context.service)
        signer.normalizePath = context.normalize
        signer.signBodyHeader = context.sign_body
        signer.omitSessionToken = context.omit_session_token ?? false
        let request = try Vectors.parseRequest(try Vectors.read(d.appendingPathComponent("request.txt")))

        let header = signer.sign(request, date: Vectors.date)
        #expect(header.canonicalRequest == (try Vectors.read(d.appendingPathComponent("header-canonical-request.txt"))))
        #expect(header.stringToSign == (try Vectors.read(d.appendingPathComponent("header-string-to-sign.txt"))))
        #expect(header.signature == (try Vectors.read(d.appendingPathComponent("header-signature.txt"))).trimmingCharacters(in: .whitespacesAndNewlines))
        let signedRequest = try Vectors.parseRequest(try Vectors.read(d.appendingPathComponent("header-signed-request.txt")))
        #expect(header.request.header("Authorization") == signedRequest.header("Authorization"))
        if !signer.omitSessionToken {
            #expect(SigV4Verifier.verify(header.request, credentials: credentials, normalizePath: context.normalize))
        }

        let queryFile = d.appendingPathComponent("query-canonical-request.txt")
        if FileManager.default.fileExists(atPath: queryFile.path) {
            let query = signer.presign(request, date: Vectors.date, expires: context.expiration_in_seconds ?? 3600)
            #expect(query.canonicalRequest == (try Vectors.read(queryFile)))
            #expect(query.stringToSign == (try Vectors.read(d.appendingPathComponent("query-string-to-sign.txt"))))
            #expect(query.signature == (try Vectors.read(d.appendingPathComponent("query-signature.txt"))).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    @Test func verifierRefusesWrongSecretTamperedBodyAndBadHeaders() {
        let signer = SigV4Signer(credentials: Vectors.credentials, region: "us-east-1", service: "sts")
        let body = Array("Action=GetCallerIdentity&Version=2011-06-15".utf8)
        let request = SigV4Request(method: "POST", path: "/", headers: [("Host", "sts.amazonaws.com"), ("Content-Type", "application/x-www-form-urlencoded")], body: body)
        let signed = signer.sign(request, date: Vectors.date).request
        #expect(SigV4Verifier.verify(signed, credentials: Vectors.credentials))
        #expect(!SigV4Verifier.verify(signed, credentials: AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wrong")))
        var tampered = signed
        tampered.body = Array("Action=GetCallerIdentity&Version=2011-06-15&X=1".utf8)
        #expect(!SigV4Verifier.verify(tampered, credentials: Vectors.credentials))
        var hostChanged = signed
        hostChanged.setHeader("Host", "evil.example.com")
        #expect(!SigV4Verifier.verify(hostChanged, credentials: Vectors.credentials))
        for bad in ["AWS4-HMAC-SHA256 Credential=A/2015/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00",
                    "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/sts/aws4_request, SignedHeaders=x-amz-date;host, Signature=" + String(repeating: "0", count: 64),
                    "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/sts/aws4_request, SignedHeaders=host, SignedHeaders=host, Signature=" + String(repeating: "0", count: 64),
                    "Basic Zm9vOmJhcg=="] {
            #expect(SigV4Authorization(header: bad) == nil, "\(bad)")
        }
        let parsed = SigV4Authorization(header: signed.header("Authorization") ?? "")
        #expect(parsed?.region == "us-east-1")
        #expect(parsed?.service == "sts")
        #expect(parsed?.signedHeaders == ["content-type", "host", "x-amz-date"])
    }
}
