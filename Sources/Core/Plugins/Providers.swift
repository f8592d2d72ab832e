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
    /// Ids the provider needs to revoke the entity without searching the cloud for them (an
    /// access key's id), handed back to ``DynamicSecretProvider/revoke(config:entity:)``. Kept
    /// sealed with the lease until it is settled. Identifiers only: never a credential.
    public let revocationState: [String: String]

    public init(externalEntityId: String, data: [String: String], expiresAt: Date? = nil, revocationState: [String: String] = [:]) {
        self.externalEntityId = externalEntityId
        self.data = data
        self.expiresAt = expiresAt
        self.revocationState = revocationState
    }
}

/// What a provider keeps of an account: its own fields and how long a session lasts.
public struct PAMAccountSettings: Sendable {
    public let details: [String: String]
    public let sessionDuration: Int
    /// What works now but will not later (e.g. a role kms cannot write revocations to).
    public let warnings: [String]
    public init(details: [String: String], sessionDuration: Int, warnings: [String] = []) {
        self.details = details
        self.sessionDuration = sessionDuration
        self.warnings = warnings
    }
}

/// A revoked person on one target: every credential issued to `sourceIdentity` before
/// `revokedAt` must stop working.
public struct PAMRevocation: Sendable, Equatable {
    public let sourceIdentity: String
    public let revokedAt: Date
    public init(sourceIdentity: String, revokedAt: Date) {
        self.sourceIdentity = sourceIdentity
        self.revokedAt = revokedAt
    }
}

/// A person's request to open access on an account.
public struct PAMAccessRequest: Sendable {
    public let resource: PAMResource
    public let account: PAMAccount
    /// The longest the session may last (an approved grant's remaining time); nil: the account's.
    public let maxDuration: Int?
    public let orgId: String
    public let projectId: String
    /// The person (an e-mail), which providers carry into the cloud session's name.
    public let email: String
    /// One of the provider's `accessMethods`.
    public let method: String
    /// This server's public URL, for console sign-in links.
    public let publicURL: String
}

/// What a provider opened: the grant Core records, and what the person gets.
public struct PAMAccess: Sendable {
    public let grant: PAMGrant
    public let consoleUrl: String?
    public let credentials: [String: String]?
    public let metadata: [String: String]

    public init(grant: PAMGrant, consoleUrl: String?, credentials: [String: String]?, metadata: [String: String]) {
        self.grant = grant
        self.consoleUrl = consoleUrl
        self.credentials = credentials
        self.metadata = metadata
    }
}

/// A privileged-access provider. Core owns, once for every provider: the resource and account
/// routes (``PAMResourceRoutes``, which the plugin registers for its type) and their storage,
/// opening access (project members, people only, audited, recorded as a session only once it was
/// really granted) and the sessions. The provider validates what is its own and opens access.
public protocol PAMProvider: Sendable {
    /// The resource type as the API names it, e.g. `aws-iam`.
    var resourceType: String { get }
    /// The ways of access it offers, e.g. `web` and `cli`; the first is the default.
    var accessMethods: [String] { get }
    /// Checks, before any cloud call, that the organization may use this provider now.
    func authorize(orgId: String) async throws
    /// Validates a resource's `connectionDetails` and checks them against the cloud (e.g. that
    /// its role can be assumed); returns the details to store. Bad input is a 400, a refusal by
    /// the cloud a 400 that says why, an unreachable cloud a 502.
    func validateResource(_ connectionDetails: [String: JSONValue], project: Project) async throws -> [String: String]
    /// Validates an account's `credentials` on `resource`; returns what to store.
    func validateAccount(_ credentials: [String: JSONValue], resource: PAMResource) async throws -> PAMAccountSettings
    /// Opens access; a failure leaves nothing open. The grant carries the session's source
    /// identity, which revocation names.
    func openAccess(_ request: PAMAccessRequest) async throws -> PAMAccess
    /// Makes every credential issued for `target` (of `resource`) to the revoked people before
    /// their revocation time useless: writes the whole current set (empty: remove the
    /// provider's deny). Called in order per target, with every revocation still in force.
    func applyRevocations(_ revocations: [PAMRevocation], target: String, resource: PAMResource) async throws
}

/// The registry of providers by name, filled by plugins at start-up and read by Core's engines.
public final class ProviderRegistry: Sendable {
    private let state = Mutex<(auth: [String: any AuthProvider], dynamic: [String: any DynamicSecretProvider], pam: [String: any PAMProvider])>(([:], [:], [:]))
    private let forms = Mutex<[ConsoleForm]>([])

    public init() {}

    public func register(auth provider: any AuthProvider) { state.withLock { $0.auth[provider.method] = provider } }
    public func register(dynamicSecret provider: any DynamicSecretProvider) { state.withLock { $0.dynamic[provider.type] = provider } }
    public func register(pam provider: any PAMProvider) { state.withLock { $0.pam[provider.resourceType] = provider } }

    public func authProvider(_ method: String) -> (any AuthProvider)? { state.withLock { $0.auth[method] } }
    public func dynamicSecretProvider(_ type: String) -> (any DynamicSecretProvider)? { state.withLock { $0.dynamic[type] } }
    public func pamProvider(_ type: String) -> (any PAMProvider)? { state.withLock { $0.pam[type] } }

    /// Adds a provider's web-console form; a later one for the same target replaces it.
    public func register(consoleForm form: ConsoleForm) {
        forms.withLock { all in
            all.removeAll { $0.target == form.target }
            all.append(form)
        }
    }

    /// The console form for `target`, if its plugin contributed one.
    public func consoleForm(_ target: ConsoleForm.Target) -> ConsoleForm? { forms.withLock { $0.first { $0.target == target } } }

    /// Every contributed console form, in registration order.
    public var consoleForms: [ConsoleForm] { forms.withLock { $0 } }

    /// The names of every registered provider, for status and docs.
    public var names: [String] {
        state.withLock { s in s.auth.keys.map { "auth:\($0)" } + s.dynamic.keys.map { "dynamic:\($0)" } + s.pam.keys.map { "pam:\($0)" } }.sorted()
    }
}
