import CArgon2
import Foundation
import Synchronization

/// argon2id password hashing through libargon2, with OWASP's recommended minimum cost
/// (19 MiB, 2 iterations, 1 lane). Hashes are PHC strings that carry their own parameters.
public struct PasswordHasher: Sendable {
    public let memoryKiB: UInt32
    public let iterations: UInt32

    public init(memoryKiB: UInt32 = 19 * 1024, iterations: UInt32 = 2) {
        self.memoryKiB = memoryKiB
        self.iterations = iterations
    }

    /// A valid hash of a random password at this hasher's cost, made once per cost: verified
    /// against when there is no real hash (an unknown e-mail or client id), so such attempts
    /// cost what a wrong password costs.
    public var decoyHash: String { DecoyHashes.shared.hash(for: self) }

    /// Hashes a password with a fresh random salt.
    public func hash(_ password: String) throws -> String {
        let salt = SecureRandom.bytes(16)
        let pwd = Array(password.utf8)
        let encodedLength = argon2_encodedlen(iterations, memoryKiB, 1, UInt32(salt.count), 32, Argon2_id)
        var encoded = [CChar](repeating: 0, count: encodedLength)
        let rc = argon2id_hash_encoded(iterations, memoryKiB, 1, pwd, pwd.count, salt, salt.count, 32, &encoded, encodedLength)
        guard rc == ARGON2_OK.rawValue else { throw APIError(.internalError, "password hashing failed") }
        return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// ``hash(_:)`` on the password pool, off the event loops.
    public func hashOffLoop(_ password: String) async throws -> String {
        try await BlockingWorkPool.passwords.run { try self.hash(password) }
    }

    /// ``verify(_:hash:)`` on the password pool, off the event loops.
    public func verifyOffLoop(_ password: String, hash: String) async throws -> Bool {
        try await BlockingWorkPool.passwords.run { self.verify(password, hash: hash) }
    }

    /// Checks a password against a stored hash; libargon2 compares in constant time.
    public func verify(_ password: String, hash: String) -> Bool {
        let pwd = Array(password.utf8)
        return hash.withCString { argon2id_verify($0, pwd, pwd.count) } == ARGON2_OK.rawValue
    }
}

/// One decoy hash per hashing cost.
final class DecoyHashes: Sendable {
    static let shared = DecoyHashes()
    private let hashes = Mutex<[String: String]>([:])

    func hash(for hasher: PasswordHasher) -> String {
        let key = "\(hasher.memoryKiB)/\(hasher.iterations)"
        return hashes.withLock { cache in
            if let known = cache[key] { return known }
            let made = (try? hasher.hash(SecureRandom.token())) ?? ""
            cache[key] = made
            return made
        }
    }
}
