import Foundation

/// The token settings every identity auth method carries (Infisical's field names), with their
/// defaults and checks in one place.
public struct AccessTokenSettings: Sendable, Equatable {
    public var ttl: Int
    public var maxTTL: Int
    public var numUsesLimit: Int
    public var trustedIPs: [IPRange]

    /// 30 days, as Infisical defaults.
    public static let defaultTTL = 2_592_000
    /// The longest TTL accepted: 10 years.
    public static let ceiling = 315_360_000

    public init(ttl: Int = defaultTTL, maxTTL: Int = defaultTTL, numUsesLimit: Int = 0, trustedIPs: [IPRange] = IPRange.everywhere) {
        self.ttl = ttl
        self.maxTTL = maxTTL
        self.numUsesLimit = numUsesLimit
        self.trustedIPs = trustedIPs
    }

    /// One entry of `accessTokenTrustedIps`.
    public struct TrustedIP: Codable, Sendable, Equatable {
        public let ipAddress: String
        public init(ipAddress: String) { self.ipAddress = ipAddress }
    }

    /// The fields as a request carries them; all optional.
    public struct Input: Decodable, Sendable {
        public let accessTokenTTL: Int?
        public let accessTokenMaxTTL: Int?
        public let accessTokenNumUsesLimit: Int?
        public let accessTokenTrustedIps: [TrustedIP]?

        public init(accessTokenTTL: Int?, accessTokenMaxTTL: Int?, accessTokenNumUsesLimit: Int?, accessTokenTrustedIps: [TrustedIP]?) {
            self.accessTokenTTL = accessTokenTTL
            self.accessTokenMaxTTL = accessTokenMaxTTL
            self.accessTokenNumUsesLimit = accessTokenNumUsesLimit
            self.accessTokenTrustedIps = accessTokenTrustedIps
        }
    }

    /// Applies an input over these settings and validates the result.
    public func applying(_ input: Input) throws -> AccessTokenSettings {
        var s = self
        if let v = input.accessTokenTTL { s.ttl = v }
        if let v = input.accessTokenMaxTTL { s.maxTTL = v }
        if let v = input.accessTokenNumUsesLimit { s.numUsesLimit = v }
        if let ips = input.accessTokenTrustedIps {
            s.trustedIPs = try ips.map {
                guard let range = IPRange($0.ipAddress) else { throw APIError.badRequest("accessTokenTrustedIps: '\($0.ipAddress)' is not an IP address or CIDR range") }
                return range
            }
            if s.trustedIPs.isEmpty { throw APIError.badRequest("accessTokenTrustedIps must list at least one address or range") }
        }
        guard (0...Self.ceiling).contains(s.ttl) else { throw APIError.badRequest("accessTokenTTL must be between 0 and \(Self.ceiling) seconds") }
        guard (0...Self.ceiling).contains(s.maxTTL) else { throw APIError.badRequest("accessTokenMaxTTL must be between 0 and \(Self.ceiling) seconds") }
        if s.maxTTL > 0, s.ttl > s.maxTTL { throw APIError.badRequest("accessTokenTTL must not exceed accessTokenMaxTTL") }
        guard s.numUsesLimit >= 0 else { throw APIError.badRequest("accessTokenNumUsesLimit must not be negative") }
        return s
    }

    /// The trusted ranges as the API shows them.
    public var trustedIPsOut: [TrustedIP] { trustedIPs.map { TrustedIP(ipAddress: $0.description) } }

    /// The ranges as stored (JSON array of strings).
    public var trustedIPsJSON: String {
        String(decoding: (try? JSONEncoder().encode(trustedIPs.map(\.description))) ?? Data("[]".utf8), as: UTF8.self)
    }

    public static func trustedIPs(fromJSON text: String) -> [IPRange] {
        ((try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []).compactMap(IPRange.init)
    }
}
