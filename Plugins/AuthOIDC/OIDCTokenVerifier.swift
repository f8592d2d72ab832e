import Core
import Foundation
import JWTKit

/// A token's claims, decoded after jwt-kit checked the signature; the claims themselves are
/// checked by ``OIDCTokenVerifier/check(_:against:now:)`` so each refusal has its own reason.
struct OIDCClaims: JWTPayload {
    let values: [String: JSONValue]
    init(values: [String: JSONValue]) { self.values = values }
    init(from decoder: any Decoder) throws { values = try [String: JSONValue](from: decoder) }
    func encode(to encoder: any Encoder) throws { try values.encode(to: encoder) }
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Verifies an OIDC token against a config: the header's algorithm must be an asymmetric one
/// that the issuer's key is published for (so `none` and HMAC keyed with a public key never
/// verify), the signature must check out with that key, and the claims must match the config.
struct OIDCTokenVerifier: Sendable {
    let keys: OIDCKeySource
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    static let leeway: TimeInterval = 60
    static let maxTokenBytes = 16 * 1024

    /// Whether a key of `keyType` (and `curve`) may verify `algorithm`.
    static func accepts(algorithm: String, keyType: String, curve: String) -> Bool {
        switch algorithm {
        case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512": keyType == "RSA"
        case "ES256": keyType == "EC" && curve == "P-256"
        case "ES384": keyType == "EC" && curve == "P-384"
        default: false
        }
    }

    /// The verified claims, or a ``LoginRefusal`` saying what is wrong.
    func verify(_ token: String, config: OIDCAuthConfig, now: Date) async throws -> [String: JSONValue] {
        let header = try Self.header(of: token)
        guard let algorithm = header["alg"]?.string, ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"].contains(algorithm) else {
            throw LoginRefusal("the token's algorithm \(header["alg"]?.string ?? "(none)") is not accepted (RS*, PS*, ES256 and ES384 are)")
        }
        let kid = header["kid"]?.string
        guard let key = try await keys.key(kid: kid, discoveryURL: config.oidcDiscoveryUrl, caCert: config.caCert) else {
            throw LoginRefusal("the issuer publishes no key \(kid.map { "'\($0.prefix(128))'" } ?? "without a key id")")
        }
        guard key.algorithm == algorithm else { throw LoginRefusal("the token says \(algorithm) but its key is for \(key.algorithm)") }
        let claims: OIDCClaims
        do {
            claims = try await key.keys.verify(token, as: OIDCClaims.self)
        } catch {
            throw LoginRefusal("the token's signature does not verify")
        }
        try Self.check(claims.values, against: config, now: now)
        return claims.values
    }

    /// The decoded header of a compact JWT; a 400 when the text is not one.
    static func header(of token: String) throws -> [String: JSONValue] {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= maxTokenBytes, parts.count == 3, let data = Data(base64URL: String(parts[0])),
              let header = try? JSONDecoder().decode([String: JSONValue].self, from: data) else {
            throw APIError.badRequest("jwt must be a signed JWT in compact form (header.payload.signature, at most 16 KiB)")
        }
        return header
    }

    /// Checks verified claims against the config: times with ``leeway``, the exact issuer, one of
    /// the audiences, the subject and every bound claim (`*` globs; a list claim matches when any
    /// element does).
    static func check(_ claims: [String: JSONValue], against config: OIDCAuthConfig, now: Date) throws {
        let time = now.timeIntervalSince1970
        guard let exp = claims["exp"].flatMap(number) else { throw LoginRefusal("the token has no expiry (exp)") }
        guard exp + leeway > time else { throw LoginRefusal("the token expired at \(ISO8601Format.string(Date(timeIntervalSince1970: exp)))") }
        if let nbf = claims["nbf"].flatMap(number), nbf - leeway > time { throw LoginRefusal("the token is not valid before \(ISO8601Format.string(Date(timeIntervalSince1970: nbf)))") }
        if let iat = claims["iat"].flatMap(number), iat - leeway > time { throw LoginRefusal("the token was issued in the future") }
        guard claims["iss"]?.string == config.boundIssuer else {
            throw LoginRefusal("the token's issuer \(claims["iss"]?.string.map { "'\($0.prefix(256))'" } ?? "(none)") is not the bound issuer")
        }
        let audiences = values(claims["aud"])
        guard audiences.contains(where: config.audiences.contains) else {
            throw LoginRefusal("the token's audience [\(audiences.joined(separator: ", ").prefix(256))] holds none of the bound audiences")
        }
        let subject = claims["sub"]?.string ?? ""
        if !config.boundSubject.isEmpty, !Glob.matches(config.boundSubject, subject, questionMark: false) {
            throw LoginRefusal("the token's subject '\(subject.prefix(256))' does not match the bound subject")
        }
        for (name, allowed) in config.boundClaims.sorted(by: { $0.key < $1.key }) {
            let present = values(claim(name, in: claims))
            let patterns = OIDCAuthConfig.list(allowed)
            guard present.contains(where: { value in patterns.contains { Glob.matches($0, value, questionMark: false) } }) else {
                throw LoginRefusal("the token's claim \(name) does not match the bound values", metadata: ["claim": name])
            }
        }
    }

    /// A claim by name, or by dotted path into nested objects when no claim has the whole name.
    static func claim(_ name: String, in claims: [String: JSONValue]) -> JSONValue? {
        if let direct = claims[name] { return direct }
        var current: JSONValue? = .object(claims)
        for part in name.split(separator: ".") { current = current?[String(part)] }
        return current
    }

    /// A claim's values as text: a string, a number or a bool, or each of a list of them.
    static func values(_ claim: JSONValue?) -> [String] {
        switch claim {
        case .string(let s): [s]
        case .bool(let b): [b ? "true" : "false"]
        case .number(let n): [n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)]
        case .array(let items): items.flatMap { item -> [String] in
            if case .array = item { return [] }
            return values(item)
        }
        default: []
        }
    }

    static func number(_ value: JSONValue) -> Double? { if case .number(let n) = value { n } else { nil } }
}

extension Data {
    /// Decodes unpadded base64url.
    init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }
}
