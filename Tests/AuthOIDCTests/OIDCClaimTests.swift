@testable import AuthOIDC
import Core
import Foundation
import Testing

@Suite struct OIDCClaimTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let config = OIDCAuthConfig(oidcDiscoveryUrl: "https://issuer.example", caCert: "", boundIssuer: "https://issuer.example",
                                boundAudiences: "kms, other", boundClaims: ["repository": "acme/*", "ctx.env": "prod,staging"],
                                boundSubject: "repo:acme/*")

    func claims(_ changes: [String: JSONValue?] = [:]) -> [String: JSONValue] {
        var c: [String: JSONValue] = ["iss": .string("https://issuer.example"), "aud": .array([.string("x"), .string("kms")]),
                                      "sub": .string("repo:acme/app:ref:main"), "exp": .number(now.timeIntervalSince1970 + 300),
                                      "iat": .number(now.timeIntervalSince1970 - 10), "repository": .string("acme/app"),
                                      "ctx": .object(["env": .string("prod")])]
        for (key, value) in changes { c[key] = value }
        return c
    }

    func reason(_ c: [String: JSONValue], _ config: OIDCAuthConfig? = nil) -> String? {
        do { try OIDCTokenVerifier.check(c, against: config ?? self.config, now: now); return nil } catch let r as LoginRefusal { return r.reason } catch { return "\(error)" }
    }

    @Test func admitsAMatchingToken() { #expect(reason(claims()) == nil) }

    @Test func refusesEachMismatchWithItsOwnReason() {
        #expect(reason(claims(["exp": nil]))?.contains("no expiry") == true)
        #expect(reason(claims(["exp": .number(now.timeIntervalSince1970 - 61)]))?.contains("expired") == true)
        #expect(reason(claims(["exp": .number(now.timeIntervalSince1970 - 30)])) == nil, "within the leeway")
        #expect(reason(claims(["nbf": .number(now.timeIntervalSince1970 + 120)]))?.contains("not valid before") == true)
        #expect(reason(claims(["iat": .number(now.timeIntervalSince1970 + 120)]))?.contains("future") == true)
        #expect(reason(claims(["iss": .string("https://issuer.example/")]))?.contains("issuer") == true)
        #expect(reason(claims(["aud": .string("kms2")]))?.contains("audience") == true)
        #expect(reason(claims(["aud": nil]))?.contains("audience") == true)
        #expect(reason(claims(["sub": .string("repo:evil/app")]))?.contains("subject") == true)
        #expect(reason(claims(["repository": .string("evil/acme/app")]))?.contains("repository") == true)
        #expect(reason(claims(["ctx": .object(["env": .string("dev")])]))?.contains("ctx.env") == true)
        #expect(reason(claims(["repository": nil]))?.contains("repository") == true)
    }

    @Test func aListClaimMatchesWhenAnyElementDoes() {
        #expect(reason(claims(["repository": .array([.string("evil/x"), .string("acme/y")])])) == nil)
        #expect(reason(claims(["repository": .array([.array([.string("acme/y")])])])) != nil, "nested lists are not flattened")
    }

    @Test func globsAreLiteralApartFromStar() {
        let strict = OIDCAuthConfig(oidcDiscoveryUrl: "https://i", caCert: "", boundIssuer: "https://issuer.example", boundAudiences: "kms",
                                    boundClaims: ["repository": "acme/ap?"], boundSubject: "")
        #expect(reason(claims(["repository": .string("acme/app")]), strict) != nil, "? is literal in OIDC globs")
        #expect(reason(claims(["repository": .string("acme/ap?")]), strict) == nil)
    }

    @Test func headersMustBeCompactJWTs() {
        #expect(throws: APIError.self) { try OIDCTokenVerifier.header(of: "not-a-jwt") }
        #expect(throws: APIError.self) { try OIDCTokenVerifier.header(of: "e30.e30") }
        let header = try? OIDCTokenVerifier.header(of: "eyJhbGciOiJub25lIn0.e30.")
        #expect(header?["alg"]?.string == "none")
    }

    @Test func keysArePinnedToOneAsymmetricAlgorithm() async throws {
        #expect(OIDCTokenVerifier.accepts(algorithm: "RS256", keyType: "RSA", curve: ""))
        #expect(!OIDCTokenVerifier.accepts(algorithm: "HS256", keyType: "RSA", curve: ""))
        #expect(!OIDCTokenVerifier.accepts(algorithm: "ES256", keyType: "EC", curve: "P-384"))
        #expect(!OIDCTokenVerifier.accepts(algorithm: "none", keyType: "RSA", curve: ""))
        let symmetric: JSONValue = .object(["kty": .string("oct"), "k": .string("c2VjcmV0"), "kid": .string("h")])
        #expect(try await OIDCKeySource.verificationKey(symmetric, soleKey: true) == nil, "an HMAC key is never a verification key")
        let encryption: JSONValue = .object(["kty": .string("EC"), "crv": .string("P-256"), "use": .string("enc"), "kid": .string("e"),
                                             "x": .string("x"), "y": .string("y")])
        #expect(try await OIDCKeySource.verificationKey(encryption, soleKey: true) == nil, "an encryption key is not for signatures")
    }
}
