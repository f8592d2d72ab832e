import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where the server may send a request that a tenant chose the address of (an OIDC discovery
/// document, an audit stream's receiver): an SSRF surface. A destination is refused when any
/// address its name resolves to is loopback, private, link-local (cloud metadata among them),
/// unique-local, carrier-grade NAT, multicast or unspecified, unless the operator listed the
/// host (or a range holding its addresses) in the plugin's allow-list setting.
///
/// The check runs on the resolved addresses, so a public name pointing at 127.0.0.1 is refused
/// too. It cannot see a name that resolves differently a moment later (DNS rebinding); callers
/// that must close that gap connect to the address they checked.
public struct EgressPolicy: Sendable {
    /// Host names (exact, case-insensitive) and address ranges the operator allows anyway.
    public let allowedHosts: Set<String>
    public let allowedRanges: [IPRange]
    /// The setting the allow-list came from, named in refusals so operators know what to change.
    public let settingName: String

    /// Ranges no tenant may reach unless allowed: RFC 6890 special-purpose blocks that lead
    /// inside the host or its network.
    static let internalRanges: [IPRange] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
        "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
        "::/96", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "fc00::/7", "fe80::/10", "ff00::/8",
    ].compactMap { IPRange($0) }

    /// `allowList` is the setting's value: comma-separated host names, addresses or CIDR ranges.
    public init(allowList: String?, settingName: String) {
        var hosts = Set<String>(), ranges: [IPRange] = []
        for item in (allowList ?? "").split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !item.isEmpty {
            if let range = IPRange(item) { ranges.append(range) } else { hosts.insert(item) }
        }
        allowedHosts = hosts
        allowedRanges = ranges
        self.settingName = settingName
    }

    /// Whether the operator listed `host` (a name, or an address inside an allowed range).
    public func allows(host: String) -> Bool {
        let name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if allowedHosts.contains(name) { return true }
        return IPRange.parseAddress(name) != nil && allowedRanges.contains { $0.contains(name) }
    }

    /// Why `address` may not be reached, or nil when it may.
    public func refusal(address: String) -> String? {
        guard let ip = IPRange.parseAddress(address).flatMap({ IPRange(Self.text(of: $0)) }) else { return "'\(address)' is not an address" }
        let text = ip.description
        if allowedRanges.contains(where: { $0.contains(text) }) { return nil }
        // IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
        if Self.internalRanges.contains(where: { $0.address.count == ip.address.count && $0.contains(text) }) {
            return "\(text) is an internal address (loopback, private, link-local or reserved)"
        }
        return nil
    }

    /// Resolves `host` and checks every address it has. Returns the addresses; throws
    /// ``EgressRefusal`` when the name does not resolve or any address is refused.
    @discardableResult
    public func check(host: String) async throws -> [String] {
        let name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        // Literals are resolved too, so they are judged as the connecting code will read them
        // (`012.0.0.1` is 10.0.0.1 to getaddrinfo).
        let addresses = try await Self.resolve(name)
        guard !addresses.isEmpty else { throw EgressRefusal("\(host) does not resolve") }
        if allowedHosts.contains(name) { return addresses }
        for address in addresses {
            if let reason = refusal(address: address) {
                throw EgressRefusal("\(host): \(reason); an operator may allow it in \(settingName)")
            }
        }
        return addresses
    }

    private static func text(of bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":")
    }

    /// Name lookups run here: they block, and a slow resolver must not take the shared pool.
    static let resolvers = BlockingWorkPool(label: "kms.egress.dns", concurrency: 4, maxWaiting: 256, busyMessage: "too many name lookups in progress; retry shortly")

    /// getaddrinfo off the concurrency pool: it blocks.
    static func resolve(_ host: String) async throws -> [String] {
        try await resolvers.run {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { throw EgressRefusal("\(host) does not resolve") }
            defer { freeaddrinfo(first) }
            var out: [String] = []
            var node: UnsafeMutablePointer<addrinfo>? = first
            while let entry = node {
                var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
                if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                    let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    if !out.contains(text) { out.append(text) }
                }
                node = entry.pointee.ai_next
            }
            return out
        }
    }
}

/// A destination the egress policy refuses, with the reason (safe to show the config's owner).
public struct EgressRefusal: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
