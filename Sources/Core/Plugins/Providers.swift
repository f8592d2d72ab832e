import Foundation
import Synchronization

/// A verified caller of an auth provider's login: which identity, and what the provider knows
/// of it for audit (for example the caller's ARN).
public struct VerifiedLogin: Sendable {
    public let identityId: String
    public let authConfigId: String
    public let metadata: [String: String]

    public init(identityId: String, authConfigId: String, metadata: [String: String]) {
        self.identityId = identityId
        self.authConfigId = authConfigId
        self.metadata = metadata
    }
}

/// An auth method for machine identities (AWS Auth, and any the operator adds).
public protocol AuthProvider: Sendable {
    /// The method's name as the API shows it in `authMethods`, e.g. `aws-auth`.
    var method: String { get }
}

/// What a dynamic-secret provider hands back when it creates an entity.
public struct DynamicSecretEntity: Sendable {
    /// The provider's id of what it created (an IAM user name, a session name).
    public let externalEntityId: String
    /// The secret shown once to the caller, never stored.
    public let data: [String: String]
    /// An expiry the provider imposed (AWS's own limits), when shorter than asked.
    public let expiresAt: Date?

    public init(externalEntityId: String, data: [String: String], expiresAt: Date? = nil) {
        self.externalEntityId = externalEntityId
        self.data = data
        self.expiresAt = expiresAt
    }
}

/// A privileged-access provider: validates resources and accounts, opens sessions.
public protocol PAMProvider: Sendable {
    /// The resource type as the API names it, e.g. `aws-iam`.
    var resourceType: String { get }
}

/// The registry of providers by name, filled by plugins at start-up and read by Core's engines.
public final class ProviderRegistry: Sendable {
    private let state = Mutex<(auth: [String: any AuthProvider], dynamic: [String: any DynamicSecretProvider], pam: [String: any PAMProvider])>(([:], [:], [:]))

    public init() {}

    public func register(auth provider: any AuthProvider) { state.withLock { $0.auth[provider.method] = provider } }
    public func register(dynamicSecret provider: any DynamicSecretProvider) { state.withLock { $0.dynamic[provider.type] = provider } }
    public func register(pam provider: any PAMProvider) { state.withLock { $0.pam[provider.resourceType] = provider } }

    public func authProvider(_ method: String) -> (any AuthProvider)? { state.withLock { $0.auth[method] } }
    public func dynamicSecretProvider(_ type: String) -> (any DynamicSecretProvider)? { state.withLock { $0.dynamic[type] } }
    public func pamProvider(_ type: String) -> (any PAMProvider)? { state.withLock { $0.pam[type] } }

    /// The names of every registered provider, for status and docs.
    public var names: [String] {
        state.withLock { s in s.auth.keys.map { "auth:\($0)" } + s.dynamic.keys.map { "dynamic:\($0)" } + s.pam.keys.map { "pam:\($0)" } }.sorted()
    }
}
