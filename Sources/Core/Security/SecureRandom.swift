import Crypto
import Foundation

/// Cryptographically secure random values and digests used across Core.
public enum SecureRandom {
    /// `count` random bytes from the system CSPRNG.
    public static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// A URL-safe base64 string of `byteCount` random bytes.
    public static func token(byteCount: Int = 32) -> String {
        Data(bytes(byteCount)).base64URLEncoded()
    }

    /// A random UUID string, used as row id.
    public static func id() -> String { UUID().uuidString.lowercased() }

    /// Lower-case hex SHA-256 of a string.
    public static func sha256Hex(_ text: String) -> String {
        hexString(SHA256.hash(data: Data(text.utf8)))
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

extension Data {
    /// Base64 with the URL-safe alphabet and no padding.
    public func base64URLEncoded() -> String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Lower-case hex of bytes, without Foundation's slow `String(format:)`.
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(64)
    for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0x0F)]) }
    return String(decoding: out, as: UTF8.self)
}
