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

    /// Creates the entity; on failure, deletes whatever it created before throwing.
    func create(config: DynamicSecretConfig, entityId: String, leaseId: String, ttl: Int) async throws -> DynamicSecretEntity

    /// Whether the entity's lifetime can be extended (temporary credentials cannot).
    func canRenew(config: DynamicSecretConfig) -> Bool

    /// Removes the entity; an entity that is already gone counts as removed.
    func revoke(config: DynamicSecretConfig, entityId: String) async throws
}
