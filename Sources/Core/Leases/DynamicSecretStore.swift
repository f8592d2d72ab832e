import Foundation

/// A stored dynamic-secret configuration as the API shows it (`folderId` is the environment
/// and path, which the official SDK's model requires).
public struct DynamicSecretRecord: Encodable, Sendable {
    public let id: String
    public let name: String
    public let type: String
    public let version: Int
    public let defaultTTL: String
    public let maxTTL: String
    public let folderId: String
    public let inputs: JSONValue
    public let createdAt: Date
    public let updatedAt: Date
    let orgId: String
    let projectId: String
    let defaultSeconds: Int
    let maxSeconds: Int
    let sealedInputs: String

    enum CodingKeys: String, CodingKey { case id, name, type, version, defaultTTL, maxTTL, folderId, inputs, createdAt, updatedAt }

    public init(row: DBRow) throws {
        id = try row.string("id")
        name = try row.string("name")
        type = try row.string("type")
        version = Int(try row.int("version"))
        defaultSeconds = Int(try row.int("default_ttl"))
        maxSeconds = Int(try row.int("max_ttl"))
        defaultTTL = String(defaultSeconds)
        maxTTL = String(maxSeconds)
        folderId = "\(try row.string("environment_id")):\(try row.string("path"))"
        inputs = JSONValue.parse(try row.string("inputs")) ?? .object([:])
        createdAt = try row.date("created_at")
        updatedAt = try row.date("updated_at")
        orgId = try row.string("org_id")
        projectId = try row.string("project_id")
        sealedInputs = try row.string("sealed_inputs")
    }

    /// The configuration handed to the provider, secrets opened.
    func providerConfig(sealer: Sealer) throws -> DynamicSecretConfig {
        try DynamicSecretConfig.open(id: id, orgId: orgId, projectId: projectId, name: name, type: type, inputs: inputs, sealedInputs: sealedInputs, sealer: sealer)
    }
}

extension DynamicSecretConfig {
    /// Merges public inputs with the opened secret ones. Secret inputs are sealed with the
    /// dynamic secret's id as context, in its own row and in each lease's snapshot alike.
    static func open(id: String, orgId: String, projectId: String, name: String, type: String, inputs: JSONValue, sealedInputs: String,
                     sealer: Sealer) throws -> DynamicSecretConfig {
        let secret = JSONValue.parse(try sealer.open(sealedInputs, context: "dynamic-secret/\(id)"))?.object ?? [:]
        var merged = inputs.object ?? [:]
        merged.merge(secret) { _, s in s }
        return DynamicSecretConfig(id: id, orgId: orgId, projectId: projectId, name: name, type: type, inputs: .object(merged))
    }
}

extension LeaseRecord {
    /// The provider config this lease was made with; leases older than snapshots fall back to
    /// their secret's current config. Nil when neither exists.
    func providerConfig(sealer: Sealer, fallback: DynamicSecretRecord?) throws -> DynamicSecretConfig? {
        if let snapshot {
            return try DynamicSecretConfig.open(id: dynamicSecretId, orgId: orgId, projectId: projectId, name: fallback?.name ?? "",
                                                type: snapshot.type, inputs: JSONValue.parse(snapshot.inputs) ?? .object([:]),
                                                sealedInputs: snapshot.sealedInputs, sealer: sealer)
        }
        return try fallback?.providerConfig(sealer: sealer)
    }
}

/// Where a dynamic secret lives: project, environment, folder path.
public struct SecretScope: Sendable {
    public let project: Project
    public let environment: Environment
    public let path: String
}
