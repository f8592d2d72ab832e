import Foundation

/// A login method for machine identities (Token Auth, AWS Auth, and any the operator adds). The
/// provider declares its config (decoded and validated by itself) and how a caller is verified;
/// Core owns, once for every provider, the attach / get / update / revoke routes, the shared
/// access-token settings, storage of the standard columns, token issuance (atomic with the
/// config's existence), revoking every token on revoke, audit events and metrics.
public protocol IdentityAuthProvider: AuthProvider {
    /// The provider's own part of a config, as stored and as the API shows it (merged with the
    /// standard fields: id, identityId, accessToken*, createdAt, updatedAt).
    associatedtype Config: Encodable & Sendable
    /// The provider's own fields of an attach or update body; every field optional.
    associatedtype Input: Decodable & Sendable

    /// The table of configs, in the plugin's namespace. It has the standard columns `id`,
    /// `identity_id` (unique), `org_id`, `ttl`, `max_ttl`, `num_uses_limit`, `trusted_ips`,
    /// `created_at`, `updated_at`, and the provider's own.
    var configTable: String { get }
    /// The key of the config in answers, e.g. `identityAwsAuth`.
    var responseKey: String { get }
    /// The method's name in messages, e.g. `AWS Auth`.
    var displayName: String { get }

    /// Reads the provider's part from a stored row.
    func config(from row: DBRow) throws -> Config
    /// The provider's columns of a config, to store. A secret field is sealed here (and opened in
    /// `config(from:)`) with the platform's sealer; `Config`'s encoding must leave it out.
    func columns(of config: Config) throws -> [(String, DBValue)]
    /// Builds and validates the provider's part from a body; `current` is the stored config on
    /// update (absent fields keep their value), nil on attach. It may check the config against
    /// the outside world (an OIDC discovery document, an LDAP bind). Bad input is a 400, an
    /// unreachable upstream a 502.
    func config(from input: Input, current: Config?) async throws -> Config
    /// Values worth an audit entry when a config is attached or changed (never secrets).
    func auditMetadata(of config: Config) -> [String: String]
    /// Whether a credential the provider rejects (an `APIError` 401/403 from `verify`) counts
    /// towards the lockout. Refusals of verified callers (``LoginRefusal``) always count. A
    /// provider whose rejected credentials anyone can forge (a bad AWS signature) says false, so
    /// no one can lock a workload out by sending garbage from its address.
    var countsRejectedCredentials: Bool { get }
}

extension IdentityAuthProvider {
    public func auditMetadata(of config: Config) -> [String: String] { [:] }
    public var countsRejectedCredentials: Bool { true }
}

/// A stored config: the standard fields Core keeps for every provider and the provider's part.
public struct StoredAuthConfig<Config: Encodable & Sendable>: Encodable, Sendable {
    public let id: String
    public let identityId: String
    public let orgId: String
    public let tokens: AccessTokenSettings
    public let lockout: LockoutPolicy
    public let createdAt: Date
    public let updatedAt: Date
    public let own: Config

    enum CodingKeys: String, CodingKey {
        case id, identityId, accessTokenTTL, accessTokenMaxTTL, accessTokenNumUsesLimit, accessTokenTrustedIps, createdAt, updatedAt
        case lockoutEnabled, lockoutThreshold, lockoutDurationSeconds, lockoutCounterResetSeconds
    }

    /// The standard fields and the provider's, in one JSON object.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(identityId, forKey: .identityId)
        try c.encode(tokens.ttl, forKey: .accessTokenTTL)
        try c.encode(tokens.maxTTL, forKey: .accessTokenMaxTTL)
        try c.encode(tokens.numUsesLimit, forKey: .accessTokenNumUsesLimit)
        try c.encode(tokens.trustedIPsOut, forKey: .accessTokenTrustedIps)
        try c.encode(lockout.enabled, forKey: .lockoutEnabled)
        try c.encode(lockout.threshold, forKey: .lockoutThreshold)
        try c.encode(lockout.duration, forKey: .lockoutDurationSeconds)
        try c.encode(lockout.counterReset, forKey: .lockoutCounterResetSeconds)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try own.encode(to: encoder)
    }
}

/// Why a verified caller is not admitted: audited in full, answered with the provider's common
/// refusal so the answer says nothing about the identity.
public struct LoginRefusal: Error, Sendable {
    public let reason: String
    public let metadata: [String: String]
    public init(_ reason: String, metadata: [String: String] = [:]) {
        self.reason = reason
        self.metadata = metadata
    }
}
