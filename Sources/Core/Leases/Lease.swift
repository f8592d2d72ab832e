import Foundation
import Logging

/// A lease as the API shows it.
public struct LeaseRecord: Encodable, Sendable {
    public let id: String
    public let version: Int
    public let externalEntityId: String
    public let expireAt: Date
    public let status: String
    public let statusDetails: String?
    public let dynamicSecretId: String
    public let createdAt: Date
    public let updatedAt: Date
    let orgId: String
    let projectId: String
    let maxExpireAt: Date
    /// The provider config the lease was made with (type, public inputs, sealed secret inputs);
    /// nil only for leases older than snapshots whose secret was already gone.
    let snapshot: (type: String, inputs: String, sealedInputs: String)?
    /// The provider's ``DynamicSecretEntity/revocationState``, sealed; nil when there is none (a
    /// create that did not finish, a provider that keeps none, a lease made before it was kept,
    /// a settled lease).
    let sealedRevocationState: String?

    enum CodingKeys: String, CodingKey { case id, version, externalEntityId, expireAt, status, statusDetails, dynamicSecretId, createdAt, updatedAt }

    init(row: DBRow) throws {
        id = try row.string("id")
        version = Int(try row.int("version"))
        externalEntityId = try row.string("external_entity_id")
        expireAt = try row.date("expire_at")
        status = try row.string("status")
        statusDetails = try row.optionalString("status_details")
        dynamicSecretId = try row.string("dynamic_secret_id")
        createdAt = try row.date("created_at")
        updatedAt = try row.date("updated_at")
        orgId = try row.string("org_id")
        projectId = try row.string("project_id")
        maxExpireAt = try row.date("max_expire_at")
        if let type = try row.optionalString("provider_type"), let inputs = try row.optionalString("inputs"),
           let sealed = try row.optionalString("sealed_inputs") {
            snapshot = (type, inputs, sealed)
        } else {
            snapshot = nil
        }
        sealedRevocationState = try row.optionalString("sealed_revocation_state")
    }

    /// What the provider is handed to revoke this lease's entity. State that cannot be opened
    /// (tampered with, moved from another lease, or corrupt) is logged and left out: it only
    /// spares the provider a search.
    func entity(sealer: Sealer, logger: Logger) -> LeasedEntity {
        guard let sealed = sealedRevocationState else { return LeasedEntity(id: externalEntityId) }
        guard let state = Self.openState(sealed, leaseId: id, sealer: sealer) else {
            logger.warning("a lease's revocation state could not be opened; the provider will search for what to revoke", metadata: ["leaseId": "\(id)"])
            return LeasedEntity(id: externalEntityId)
        }
        return LeasedEntity(id: externalEntityId, state: state)
    }

    /// Seals a provider's revocation state, bound to its lease; nil when there is none.
    static func sealState(_ state: [String: String], leaseId: String, sealer: Sealer) throws -> String? {
        guard !state.isEmpty else { return nil }
        return try sealer.seal(JSONValue.object(state.mapValues(JSONValue.string)).text, context: "lease/\(leaseId)/revocation")
    }

    static func openState(_ sealed: String, leaseId: String, sealer: Sealer) -> [String: String]? {
        guard let text = try? sealer.open(sealed, context: "lease/\(leaseId)/revocation") else { return nil }
        return JSONValue.parse(text)?.object?.compactMapValues(\.string)
    }
}

/// Lease states.
public enum LeaseStatus: String, Sendable {
    case creating, active, revoked, expired
    case revocationFailed = "revocation_failed"
}
