import Foundation

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
    }
}

/// Lease states.
public enum LeaseStatus: String, Sendable {
    case creating, active, revoked, expired
    case revocationFailed = "revocation_failed"
}
