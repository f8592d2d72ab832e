import Core
import Foundation
import Testing

@Suite struct SealerTests {
    let key = Data((0..<32).map { UInt8($0) })
    let other = Data((0..<32).map { UInt8(255 - $0) })

    @Test func roundTripsAndHidesPlaintext() throws {
        let sealer = try Sealer(rootKey: key)
        let sealed = try sealer.seal("wJalrXUtnFEMI/K7MDENG", context: "conn/1")
        #expect(!sealed.contains("wJalrXUtnFEMI"))
        #expect(sealed.hasPrefix("v1:\(sealer.currentKeyID):"))
        #expect(try sealer.open(sealed, context: "conn/1") == "wJalrXUtnFEMI/K7MDENG")
        #expect(try sealer.seal("same", context: "c") != sealer.seal("same", context: "c"))
    }

    @Test func refusesOtherContextTamperingAndUnknownKeys() throws {
        let sealer = try Sealer(rootKey: key)
        let sealed = try sealer.seal("secret", context: "conn/1")
        #expect(throws: (any Error).self) { try sealer.open(sealed, context: "conn/2") }
        let parts = sealed.split(separator: ":")
        var raw = try #require(Data(base64Encoded: String(parts[2])))
        raw[raw.count / 2] ^= 0x01
        let tampered = "\(parts[0]):\(parts[1]):\(raw.base64EncodedString())"
        #expect(throws: (any Error).self) { try sealer.open(tampered, context: "conn/1") }
        #expect(throws: SealerError.self) { try Sealer(rootKey: other).open(sealed, context: "conn/1") }
    }

    @Test func rotationOpensOldValuesAndSealsWithTheNewKey() throws {
        let old = try Sealer(rootKey: key).seal("secret", context: "c")
        let rotated = try Sealer(rootKey: other, previousKeys: [key])
        #expect(try rotated.open(old, context: "c") == "secret")
        #expect(try rotated.seal("x", context: "c").contains(Sealer.keyID(other)))
    }

    @Test func rejectsShortKeys() {
        #expect(throws: (any Error).self) { try Sealer(rootKey: Data(count: 16)) }
    }
}

@Suite struct PasswordHasherTests {
    @Test func argon2idHashesVerify() throws {
        let hasher = PasswordHasher(memoryKiB: 1024, iterations: 1)
        let hash = try hasher.hash("correct horse battery staple")
        #expect(hash.hasPrefix("$argon2id$"))
        #expect(!hash.contains("correct horse"))
        #expect(hasher.verify("correct horse battery staple", hash: hash))
        #expect(!hasher.verify("correct horse battery stapler", hash: hash))
        #expect(!hasher.verify("x", hash: "not a hash"))
        #expect(try hasher.hash("a") != hasher.hash("a"))
    }
}

@Suite struct ValidationTests {
    @Test func slugsAndEmails() throws {
        #expect(Validate.slugify("My Web App!") == "my-web-app")
        #expect(throws: APIError.self) { try Validate.slug("Bad Slug") }
        #expect(try Validate.email(" Ops@Example.COM ") == "ops@example.com")
        #expect(throws: APIError.self) { try Validate.email("nobody") }
        #expect(throws: APIError.self) { try Validate.password("short") }
        #expect(throws: APIError.self) { try Validate.name("   ", field: "name") }
        #expect(SecureRandom.constantTimeEquals("abc", "abc"))
        #expect(!SecureRandom.constantTimeEquals("abc", "abd"))
        #expect(!SecureRandom.constantTimeEquals("abc", "abcd"))
    }

    @Test func tokensAreLongAndUnique() {
        let a = SecureRandom.token(), b = SecureRandom.token()
        #expect(a != b)
        #expect(a.count == 43) // 32 bytes, base64url without padding
    }
}

@Suite struct FormattingTests {
    @Test(arguments: [(0.0, "1970-01-01T00:00:00.000Z"), (1_800_000_000.123, "2027-01-15T08:00:00.123Z"),
                      (951_782_400.5, "2000-02-29T00:00:00.500Z"), (4_102_444_799.001, "2099-12-31T23:59:59.001Z"),
                      (-1.5, "1969-12-31T23:59:58.500Z")])
    func isoTimestamps(seconds: Double, expected: String) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(ISO8601Format.string(date) == expected)
        #expect(ISO8601Format.parse(expected).map { abs($0.timeIntervalSince(date)) < 0.002 } == true)
    }

    @Test func hexMatchesTheDigest() {
        #expect(hexString([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(SecureRandom.sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
