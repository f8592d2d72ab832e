import Foundation

/// An IPv4 or IPv6 address range in CIDR form. A bare address is a range of one.
public struct IPRange: Sendable, Hashable, CustomStringConvertible {
    public let address: [UInt8]
    public let prefixLength: Int

    /// Parses `10.0.0.0/8`, `192.0.2.1`, `2001:db8::/32` or `::1`; nil when malformed.
    public init?(_ text: String) {
        let parts = ASCIIText.trimmingBlanks(text).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let bytes = IPRange.parseAddress(String(parts[0])) else { return nil }
        let maxBits = bytes.count * 8
        if parts.count == 2 {
            guard let bits = Int(parts[1]), bits >= 0, bits <= maxBits, parts[1].allSatisfy(\.isNumber) else { return nil }
            prefixLength = bits
        } else {
            prefixLength = maxBits
        }
        address = bytes
    }

    public var description: String {
        let text: String
        if address.count == 4 {
            text = address.map(String.init).joined(separator: ".")
        } else {
            let groups = stride(from: 0, to: 16, by: 2).map { String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16) }
            text = address.allSatisfy({ $0 == 0 }) ? "::" : groups.joined(separator: ":")
        }
        return prefixLength == address.count * 8 ? text : "\(text)/\(prefixLength)"
    }

    /// Whether `ip` (an address string) falls inside this range. IPv4-mapped IPv6 addresses
    /// (`::ffff:a.b.c.d`) are compared as IPv4.
    public func contains(_ ip: String) -> Bool {
        guard let bytes = IPRange.parseAddress(ip) else { return false }
        return contains(address: bytes)
    }

    /// Whether the address `bytes` (as ``parseAddress(_:)`` returns it) falls inside this range.
    public func contains(address bytes: [UInt8]) -> Bool {
        var bytes = bytes
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff, address.count == 4 {
            bytes = Array(bytes[12...])
        }
        guard bytes.count == address.count else { return false }
        var remaining = prefixLength
        for i in 0..<bytes.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask: UInt8 = bits == 8 ? 0xff : ~(0xff >> UInt8(bits))
            if bytes[i] & mask != address[i] & mask { return false }
            remaining -= bits
        }
        return true
    }

    /// Parses a textual IPv4 or IPv6 address into 4 or 16 bytes.
    public static func parseAddress(_ text: String) -> [UInt8]? {
        var text = text
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let zone = text.firstIndex(of: "%") { text = String(text[..<zone]) }
        if text.utf8.contains(UInt8(ascii: ":")) { return parseIPv6(text) }
        return parseIPv4(text)
    }

    /// Four decimal parts of 1 to 3 digits, each at most 255, read byte by byte (this runs on
    /// every authenticated request).
    private static func parseIPv4(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(4)
        var value = 0, digits = 0, leadingZero = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, out.count < 3 else { return nil }
                out.append(UInt8(value))
                (value, digits, leadingZero) = (0, 0, false)
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            // No leading zeros: other parsers (inet_aton, getaddrinfo) read `012` as octal.
            if leadingZero { return nil }
            if digits == 0, byte == UInt8(ascii: "0") { leadingZero = true }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            digits += 1
            guard digits <= 3, value <= 255 else { return nil }
        }
        guard digits > 0, out.count == 3 else { return nil }
        out.append(UInt8(value))
        return out
    }

    private static func parseIPv6(_ text: String) -> [UInt8]? {
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ s: String) -> [UInt8]? {
            if s.isEmpty { return [] }
            var out: [UInt8] = []
            let items = s.split(separator: ":", omittingEmptySubsequences: false)
            for (i, item) in items.enumerated() {
                if item.contains("."), i == items.count - 1 {
                    guard let v4 = parseIPv4(String(item)) else { return nil }
                    out += v4
                    continue
                }
                guard !item.isEmpty, item.count <= 4, let v = UInt16(item, radix: 16) else { return nil }
                out += [UInt8(v >> 8), UInt8(v & 0xff)]
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 16 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }
}
