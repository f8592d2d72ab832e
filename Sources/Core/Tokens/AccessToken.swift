import Foundation

/// Whom a token speaks for.
public enum TokenSubject: Sendable, Equatable {
    case identity(String)
    case user(String)
}

/// What to issue: lifetimes in seconds (0 means none), a uses limit (0 means unlimited) and
/// the address ranges the token may be used from.
public struct TokenSpec: Sendable {
    public var orgId: String
    public var subject: TokenSubject
    public var authMethod: String
    public var authConfigId: String?
    public var ttl: Int
    public var maxTTL: Int
    public var numUsesLimit: Int
    public var trustedIPs: [IPRange]

    public init(orgId: String, subject: TokenSubject, authMethod: String, authConfigId: String? = nil,
                ttl: Int, maxTTL: Int, numUsesLimit: Int = 0, trustedIPs: [IPRange] = IPRange.everywhere) {
        self.orgId = orgId
        self.subject = subject
        self.authMethod = authMethod
        self.authConfigId = authConfigId
        self.ttl = ttl
        self.maxTTL = maxTTL
        self.numUsesLimit = numUsesLimit
        self.trustedIPs = trustedIPs
    }
}

extension IPRange {
    /// `0.0.0.0/0` and `::/0`: the default trusted ranges.
    public static let everywhere: [IPRange] = [IPRange("0.0.0.0/0")!, IPRange("::/0")!]
}

/// A stored token, without its secret (only the SHA-256 of the secret is ever stored).
public struct AccessTokenRecord: Sendable {
    public let id: String
    public let orgId: String
    public let subject: TokenSubject
    public let authMethod: String
    public let authConfigId: String?
    public let ttl: Int
    public let maxTTL: Int
    public let createdAt: Date
    public let expiresAt: Date?
    public let maxExpiresAt: Date?
    public let numUsesLimit: Int
    public internal(set) var numUses: Int
    public let trustedIPs: [IPRange]
    public let revokedAt: Date?
    /// Set when the token's subject is an identity: its current org role and instance-admin flag.
    public let identityRole: String?
    public let identityIsInstanceAdmin: Bool

    /// How the audit log names the token's subject.
    public var auditActor: AuditActor {
        switch subject {
        case .identity(let id): AuditActor(type: "identity", id: id, metadata: ["identityId": id, "authMethod": authMethod])
        case .user(let id): AuditActor(type: "user", id: id, metadata: ["userId": id, "authMethod": authMethod])
        }
    }

    /// Seconds until expiry from `now`, or 0 when the token does not expire.
    public func expiresIn(now: Date) -> Int {
        guard let expiresAt else { return 0 }
        return max(0, Int(expiresAt.timeIntervalSince(now).rounded()))
    }

    init(row: DBRow) throws {
        id = try row.string("id")
        orgId = try row.string("org_id")
        if let identity = try row.optionalString("identity_id") {
            subject = .identity(identity)
        } else {
            subject = .user(try row.string("user_id"))
        }
        authMethod = try row.string("auth_method")
        authConfigId = try row.optionalString("auth_config_id")
        ttl = Int(try row.int("ttl"))
        maxTTL = Int(try row.int("max_ttl"))
        createdAt = try row.date("created_at")
        expiresAt = try row.optionalDate("expires_at")
        maxExpiresAt = try row.optionalDate("max_expires_at")
        numUsesLimit = Int(try row.int("num_uses_limit"))
        numUses = Int(try row.int("num_uses"))
        let ips = try JSONDecoder().decode([String].self, from: Data(try row.string("trusted_ips").utf8))
        trustedIPs = ips.compactMap(IPRange.init)
        revokedAt = try row.optionalDate("revoked_at")
        identityRole = row.values["identity_role"].flatMap { if case .text(let s) = $0 { s } else { nil } }
        identityIsInstanceAdmin = row.values["identity_admin"].flatMap { if case .int(let i) = $0 { i != 0 } else { nil } } ?? false
    }
}
