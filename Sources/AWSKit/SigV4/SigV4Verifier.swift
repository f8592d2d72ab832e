import Foundation

/// The parts of a SigV4 `Authorization` header.
public struct SigV4Authorization: Sendable, Equatable {
    public let accessKeyId: String
    public let date: String
    public let region: String
    public let service: String
    public let signedHeaders: [String]
    public let signature: String

    /// Parses `AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts/aws4_request, SignedHeaders=a;b, Signature=hex`.
    /// Returns nil for anything else.
    public init?(header: String) {
        let prefix = SigV4Signer.algorithm + " "
        guard header.hasPrefix(prefix) else { return nil }
        var fields: [String: String] = [:]
        for part in header.dropFirst(prefix.count).split(separator: ",") {
            let item = part.trimmingCharacters(in: .whitespaces)
            guard let eq = item.firstIndex(of: "=") else { return nil }
            let key = String(item[..<eq])
            guard fields[key] == nil else { return nil }
            fields[key] = String(item[item.index(after: eq)...])
        }
        guard fields.count == 3, let credential = fields["Credential"], let signed = fields["SignedHeaders"], let signature = fields["Signature"] else { return nil }
        let scope = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 5, scope[4] == "aws4_request", scope[1].count == 8, scope[1].allSatisfy(\.isNumber),
              !scope[0].isEmpty, !scope[2].isEmpty, !scope[3].isEmpty else { return nil }
        let names = signed.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty && $0 == $0.lowercased() }), names == names.sorted(), Set(names).count == names.count else { return nil }
        guard signature.count == 64, signature.allSatisfy(\.isHexDigit) else { return nil }
        accessKeyId = scope[0]
        date = scope[1]
        region = scope[2]
        service = scope[3]
        signedHeaders = names
        self.signature = signature.lowercased()
    }
}

/// Verifies a header-signed request by recomputing its signature with a known secret.
public enum SigV4Verifier {
    /// Whether `request`'s `Authorization` header carries the right signature for `credentials`.
    public static func verify(_ request: SigV4Request, credentials: AWSCredentials, normalizePath: Bool = true) -> Bool {
        guard let header = request.header("Authorization"), let auth = SigV4Authorization(header: header),
              auth.accessKeyId == credentials.accessKeyId,
              let amzDate = request.header("X-Amz-Date"), let date = SigV4Signer.parseAmzDate(amzDate),
              amzDate.hasPrefix(auth.date) else { return false }
        var signer = SigV4Signer(credentials: credentials, region: auth.region, service: auth.service)
        signer.normalizePath = normalizePath
        let payloadHash = SigV4Signer.hexSHA256(request.body)
        // A declared payload hash must be the body's: the signature covers the header, not the bytes.
        if let declared = request.header("X-Amz-Content-SHA256"), declared != payloadHash { return false }
        let creq = signer.canonicalRequest(request, signedHeaders: auth.signedHeaders, payloadHash: payloadHash)
        let expected = signer.signature(stringToSign: signer.stringToSign(canonicalRequest: creq, date: date), date: date)
        return constantTimeEquals(expected, auth.signature)
    }

    /// Compares two strings in time that depends only on their lengths.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
