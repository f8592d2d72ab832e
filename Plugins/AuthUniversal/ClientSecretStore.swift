import Core
import Foundation

/// A client secret as the API shows it (Infisical's field names); the secret itself is shown
/// once, when made, and stored only as an argon2id hash.
struct ClientSecretData: Encodable, Sendable {
    let id: String
    let identityUAId: String
    let description: String
    let clientSecretPrefix: String
    let clientSecretNumUses: Int
    let clientSecretNumUsesLimit: Int
    let clientSecretTTL: Int
    let isClientSecretRevoked: Bool
    let createdAt: Date
    let updatedAt: Date

    init(row: DBRow) throws {
        id = try row.string("id")
        identityUAId = try row.string("config_id")
        description = try row.string("description")
        clientSecretPrefix = try row.string("prefix")
        clientSecretNumUses = Int(try row.int("num_uses"))
        clientSecretNumUsesLimit = Int(try row.int("num_uses_limit"))
        clientSecretTTL = Int(try row.int("ttl"))
        isClientSecretRevoked = try row.bool("is_revoked")
        createdAt = try row.date("created_at")
        updatedAt = try row.date("updated_at")
    }
}

/// Client secrets of Universal Auth configs. Every query names the config it acts in.
struct ClientSecretStore: Sendable {
    let platform: Platform
    /// Characters of a secret kept in clear to find its hash among a config's secrets.
    static let prefixLength = 4

    func create(configId: String, identity: Identity, description: String, numUsesLimit: Int, ttl: Int) async throws -> (String, ClientSecretData) {
        let secret = SecureRandom.token()
        let hash = try await platform.passwords.hashOffLoop(secret)
        let id = SecureRandom.id()
        let now = platform.clock.now()
        try await platform.database.query(SQL("""
            INSERT INTO universal_auth_client_secrets (id, config_id, identity_id, org_id, description, prefix, secret_hash, num_uses_limit, ttl, created_at, updated_at)
            VALUES (\(id), \(configId), \(identity.id), \(identity.orgId), \(description), \(String(secret.prefix(Self.prefixLength))), \(hash),
                    \(numUsesLimit), \(ttl), \(now), \(now))
            """))
        guard let data = try await find(configId: configId, id: id) else { throw StorageError.other("client secret vanished") }
        return (secret, data)
    }

    func list(configId: String) async throws -> [ClientSecretData] {
        try await platform.database.query(SQL("SELECT * FROM universal_auth_client_secrets WHERE config_id = \(configId) ORDER BY created_at DESC"))
            .map(ClientSecretData.init(row:))
    }

    func find(configId: String, id: String) async throws -> ClientSecretData? {
        try await platform.database.first(SQL("SELECT * FROM universal_auth_client_secrets WHERE config_id = \(configId) AND id = \(id)"))
            .map(ClientSecretData.init(row:))
    }

    func revoke(configId: String, id: String) async throws -> ClientSecretData? {
        let now = platform.clock.now()
        try await platform.database.query(SQL("UPDATE universal_auth_client_secrets SET is_revoked = 1, updated_at = \(now) WHERE config_id = \(configId) AND id = \(id)"))
        return try await find(configId: configId, id: id)
    }

    /// The config's unrevoked secret that `secret` is, or nil. Exactly one argon2 check runs
    /// whatever the outcome (the newest candidate with the secret's prefix, else a decoy), so the
    /// time taken says nothing about which secrets exist.
    func match(configId: String?, secret: String) async throws -> ClientSecretData? {
        var row: DBRow?
        if let configId {
            row = try await platform.database.first(SQL("""
                SELECT * FROM universal_auth_client_secrets WHERE config_id = \(configId) AND prefix = \(String(secret.prefix(Self.prefixLength))) AND is_revoked = 0
                ORDER BY created_at DESC LIMIT 1
                """))
        }
        let hash = try row?.string("secret_hash") ?? platform.passwords.decoyHash
        let ok = try await platform.passwords.verifyOffLoop(secret, hash: hash)
        return try ok ? row.map(ClientSecretData.init(row:)) : nil
    }


    /// Counts one use, atomically; false when the secret was revoked or used up meanwhile.
    func use(configId: String, id: String) async throws -> Bool {
        let now = platform.clock.now()
        return try await !platform.database.query(SQL("""
            UPDATE universal_auth_client_secrets SET num_uses = num_uses + 1, updated_at = \(now)
            WHERE config_id = \(configId) AND id = \(id) AND is_revoked = 0 AND (num_uses_limit = 0 OR num_uses < num_uses_limit) RETURNING id
            """)).isEmpty
    }

    /// The identity whose config has `clientId`, or nil.
    func identity(clientId: String) async throws -> String? {
        try await platform.database.first(SQL("SELECT identity_id FROM universal_auth_configs WHERE client_id = \(clientId)"))?.string("identity_id")
    }
}

