import Foundation

/// What Core knows of a dynamic-secret configuration when it calls its provider.
public struct DynamicSecretConfig: Sendable {
    public let id: String
    public let orgId: String
    public let projectId: String
    public let name: String
    public let type: String
    /// The provider's inputs, secrets included (opened from their sealed form).
    public let inputs: JSONValue
}

/// A dynamic-secret provider: validates configs and creates, renews and revokes entities.
public protocol DynamicSecretProvider: Sendable {
    /// The provider type as the API names it, e.g. `aws-iam`.
    var type: String { get }

    /// Checks inputs (including the connection, against the cloud) and splits them into the
    /// part shown on reads and the secret part sealed at rest.
    func validate(inputs: JSONValue, projectId: String) async throws -> (public: JSONValue, secret: JSONValue)

    /// The external id the entity for `leaseId` will have, recorded before anything is created
    /// so a crash mid-create can be cleaned up.
    func plannedEntityId(config: DynamicSecretConfig, leaseId: String) throws -> String

    /// Checks, before any row is written or anything is created, that this config may be used
    /// now (for example that the organization may use the server's own cloud identity). A
    /// refusal here leaves nothing to clean up.
    func authorize(config: DynamicSecretConfig) async throws

    /// Creates the entity; on failure, deletes whatever it created before throwing. Throw
    /// ``NothingCreated`` when the failure is known to have left nothing behind, so the engine
    /// skips the cleanup call.
    func create(config: DynamicSecretConfig, entityId: String, leaseId: String, ttl: Int) async throws -> DynamicSecretEntity

    /// Whether the entity's lifetime can be extended (temporary credentials cannot).
    func canRenew(config: DynamicSecretConfig) -> Bool

    /// Removes the entity; an entity that is already gone counts as removed. `entity.state` may
    /// be empty for any lease (a create that did not finish, a lease older than the state, state
    /// that could not be opened): the provider must then find what to remove by the id alone,
    /// and must never rely on the state to remove less.
    func revoke(config: DynamicSecretConfig, entity: LeasedEntity) async throws
}

/// What a lease holds of its entity when the provider is asked to revoke it.
public struct LeasedEntity: Sendable, Equatable {
    /// The entity's external id (the planned one, for a create that did not finish).
    public let id: String
    /// ``DynamicSecretEntity/revocationState`` as the create returned it.
    public let state: [String: String]

    public init(id: String, state: [String: String] = [:]) {
        self.id = id
        self.state = state
    }
}

extension DynamicSecretProvider {
    public func authorize(config: DynamicSecretConfig) async throws {}
}

/// A create that failed before anything existed in the cloud (a definitive refusal of the first
/// call): the lease row can go without a revocation attempt.
public struct NothingCreated: Error, Sendable {
    public let underlying: any Error
    public init(_ underlying: any Error) { self.underlying = underlying }
}
