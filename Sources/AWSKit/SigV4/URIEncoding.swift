/// The percent-encoding SigV4 prescribes: every byte except the unreserved characters
/// `A-Z a-z 0-9 - . _ ~` becomes `%XX` with upper-case hex.
public enum SigV4Encoding {
    static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    @inline(__always)
    static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
    }

    /// Encodes a string; `/` is kept when `keepSlash` (for paths).
    public static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for b in text.utf8 {
            if isUnreserved(b) || (keepSlash && b == 0x2F) {
                out.append(b)
            } else {
                out += [0x25, hex[Int(b >> 4)], hex[Int(b & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `%XX` escapes (and, for form bodies, `+` as space). Invalid escapes are kept.
    public static func decode(_ text: String, plusAsSpace: Bool = false) -> String {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x25, i + 2 < bytes.count, let h = hexValue(bytes[i + 1]), let l = hexValue(bytes[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(plusAsSpace && b == 0x2B ? 0x20 : b)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: nil
        }
    }

    /// A form-encoded (`application/x-www-form-urlencoded`) body of the given pairs, in order,
    /// with spaces as `+` like the AWS SDKs (some endpoints re-encode the body that way before
    /// checking its hash).
    public static func form(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(formEncode($0.0))=\(formEncode($0.1))" }.joined(separator: "&")
    }

    static func formEncode(_ text: String) -> String {
        encode(text).replacingOccurrences(of: "%20", with: "+")
    }

    /// Parses a query string or form body into decoded pairs, keeping order and duplicates.
    public static func parseQuery(_ query: String, plusAsSpace: Bool = false) -> [(String, String)] {
        guard !query.isEmpty else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).map { item in
            if let eq = item.firstIndex(of: "=") {
                return (decode(String(item[..<eq]), plusAsSpace: plusAsSpace), decode(String(item[item.index(after: eq)...]), plusAsSpace: plusAsSpace))
            }
            return (decode(String(item), plusAsSpace: plusAsSpace), "")
        }
    }
}
