import Crypto
import Foundation

/// Seals secrets at rest with AES-256-GCM. Each ciphertext names the key that sealed it, so the
/// root key can rotate: new data is sealed with the current key, old data opens with its own.
public struct Sealer: Sendable {
    private let current: (id: String, key: SymmetricKey)
    private let keys: [String: SymmetricKey]

    /// - Parameters:
    ///   - rootKey: the current 32-byte root key.
    ///   - previousKeys: older keys still accepted for opening.
    public init(rootKey: Data, previousKeys: [Data] = []) throws {
        guard rootKey.count == 32, previousKeys.allSatisfy({ $0.count == 32 }) else {
            throw APIError.badRequest("encryption keys must be 32 bytes")
        }
        let current = (Self.keyID(rootKey), SymmetricKey(data: rootKey))
        var keys = [current.0: current.1]
        for key in previousKeys { keys[Self.keyID(key)] = SymmetricKey(data: key) }
        self.current = current
        self.keys = keys
    }

    /// The id of a key: the first 8 bytes of its SHA-256, hex. Reveals nothing usable.
    public static func keyID(_ key: Data) -> String {
        hexString(SHA256.hash(data: key).prefix(8))
    }

    /// The id of the key new data is sealed with.
    public var currentKeyID: String { current.id }

    /// Seals `plaintext`, bound to `context` (for example the table and row id) so a sealed
    /// value cannot be moved to another row.
    public func seal(_ plaintext: String, context: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: current.key, authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw SealerError.malformed }
        return "v1:\(current.id):\(combined.base64EncodedString())"
    }

    /// Opens a value sealed by ``seal(_:context:)`` with the same context.
    public func open(_ sealed: String, context: String) throws -> String {
        let parts = sealed.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1", let data = Data(base64Encoded: String(parts[2])) else {
            throw SealerError.malformed
        }
        guard let key = keys[String(parts[1])] else { throw SealerError.unknownKey(String(parts[1])) }
        let box = try AES.GCM.SealedBox(combined: data)
        let plain = try AES.GCM.open(box, using: key, authenticating: Data(context.utf8))
        guard let text = String(data: plain, encoding: .utf8) else { throw SealerError.malformed }
        return text
    }
}

/// Why a sealed value could not be opened.
public enum SealerError: Error, Sendable {
    case malformed
    case unknownKey(String)
}
