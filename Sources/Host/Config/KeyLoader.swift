import Core
import Foundation

/// Finds the root sealing key: `KMS_ENCRYPTION_KEY`, else the key file, else (embedded store
/// only) a key generated once into the data directory with mode 0600. On Postgres a missing
/// key is fatal: replicas must share one key and a generated one would be lost with the host.
enum KeyLoader {
    static func sealer(config: KMSConfig) throws -> Sealer {
        let key = try rootKey(config: config)
        let previous = try config.previousEncryptionKeys.map { try decode($0, source: "KMS_ENCRYPTION_KEY_PREVIOUS") }
        return try Sealer(rootKey: key, previousKeys: previous)
    }

    static func rootKey(config: KMSConfig) throws -> Data {
        if let text = config.encryptionKey { return try decode(text, source: "KMS_ENCRYPTION_KEY") }
        if let file = config.encryptionKeyFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ConfigError("cannot read KMS_ENCRYPTION_KEY_FILE \(file)") }
            return try decode(text.trimmingCharacters(in: .whitespacesAndNewlines), source: "KMS_ENCRYPTION_KEY_FILE")
        }
        if config.usesPostgres {
            throw ConfigError("refusing to start on Postgres without KMS_ENCRYPTION_KEY or KMS_ENCRYPTION_KEY_FILE (base64 of 32 random bytes, e.g. `openssl rand -base64 32`)")
        }
        let path = URL(fileURLWithPath: config.dataDir).appendingPathComponent("encryption.key").path
        try PrivateFile.tighten(path)
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            return try decode(text.trimmingCharacters(in: .whitespacesAndNewlines), source: path)
        }
        let key = Data(SecureRandom.bytes(32))
        try PrivateFile.directory(config.dataDir)
        try PrivateFile.create(path, contents: Data((key.base64EncodedString() + "\n").utf8))
        return key
    }

    static func decode(_ text: String, source: String) throws -> Data {
        guard let data = Data(base64Encoded: text), data.count == 32 else {
            throw ConfigError("\(source) must be base64 of exactly 32 bytes")
        }
        return data
    }
}
