import AsyncHTTPClient
import Core
import Foundation
import JWTKit
import Logging
import NIOCore
import NIOSSL

/// One verification key of an issuer: the algorithm it is used with (from the JWK's `alg`, or
/// implied by its type and curve) and a key collection holding just that key, so a token is
/// never checked with another key or another algorithm than the one its header names.
struct OIDCVerificationKey: Sendable {
    let algorithm: String
    let keys: JWTKeyCollection
}

/// An issuer's keys as last fetched.
struct OIDCKeySet: Sendable {
    let keys: [String: OIDCVerificationKey]
    let fetchedAt: Date
}

/// Fetches an issuer's discovery document and JWKS through the shared HTTP client and caches
/// the keys per issuer. Keys are fetched again when they are older than `maxAge`, or when a
/// token names a key id the cache lacks (key rotation); either way at most once per
/// `minRefreshInterval` per issuer, so tokens with made-up key ids cannot make the server
/// hammer an issuer. Concurrent logins share one fetch.
actor OIDCKeySource {
    let egress: EgressPolicy
    let clock: TimeSource
    let logger: Logger
    let maxAge: TimeInterval
    let minRefreshInterval: TimeInterval
    static let maxDocumentBytes = 512 * 1024
    static let timeout: TimeAmount = .seconds(5)
    /// Keys of one issuer beyond this are ignored; issuers publish a handful.
    static let maxKeys = 20
    /// Issuers held at once; the least recently fetched is dropped beyond it.
    static let maxIssuers = 1000
    /// Keys are never used longer than this after their fetch, even while refreshes fail, so a
    /// key the issuer withdrew stops working.
    static let hardMaxAge: TimeInterval = 86_400

    private var cache: [String: OIDCKeySet] = [:]
    private var lastAttempt: [String: Date] = [:]
    private var inFlight: [String: Task<OIDCKeySet, any Error>] = [:]

    init(egress: EgressPolicy, clock: TimeSource, logger: Logger, maxAge: TimeInterval = 600, minRefreshInterval: TimeInterval = 60) {
        self.egress = egress
        self.clock = clock
        self.logger = logger
        self.maxAge = maxAge
        self.minRefreshInterval = minRefreshInterval
    }

    /// The key `kid` of the issuer at `discoveryURL` (nil `kid`: the issuer's only key).
    /// Returns nil when the issuer has no such key, even after a refresh.
    func key(kid: String?, discoveryURL: String, caCert: String) async throws -> OIDCVerificationKey? {
        let cacheKey = discoveryURL + "\n" + SecureRandom.sha256Hex(caCert)
        let now = clock.now()
        var set = cache[cacheKey]
        if let held = set, now.timeIntervalSince(held.fetchedAt) >= Self.hardMaxAge {
            cache[cacheKey] = nil
            set = nil
        }
        // Every fetch, failed ones too, counts towards the interval: an issuer that is down or
        // slow is not asked again by every login.
        let mayRefresh = lastAttempt[cacheKey].map { now.timeIntervalSince($0) >= minRefreshInterval } ?? true
        let stale = set.map { now.timeIntervalSince($0.fetchedAt) >= maxAge } ?? true
        let missing = set.map { Self.lookup(kid, in: $0) == nil } ?? true
        if mayRefresh && (stale || missing) {
            do {
                set = try await refresh(cacheKey: cacheKey, discoveryURL: discoveryURL, caCert: caCert)
            } catch {
                // An issuer that is down for a moment must not stop logins with keys we hold.
                guard let held = set else { throw error }
                logger.warning("OIDC keys could not be refreshed; using the cached ones", metadata: ["discoveryUrl": "\(discoveryURL)", "error": "\(error)"])
                set = held
            }
        } else if set == nil, inFlight[cacheKey] == nil {
            throw APIError.badGateway("the OIDC keys of \(discoveryURL) could not be fetched at the last attempt; the next is allowed \(Int(minRefreshInterval)) s after it")
        } else if set == nil, let running = inFlight[cacheKey] {
            set = try await running.value
        }
        return set.flatMap { Self.lookup(kid, in: $0) }
    }

    static func lookup(_ kid: String?, in set: OIDCKeySet) -> OIDCVerificationKey? {
        if let kid { return set.keys[kid] }
        return set.keys.count == 1 ? set.keys.values.first : nil
    }

    private func refresh(cacheKey: String, discoveryURL: String, caCert: String) async throws -> OIDCKeySet {
        if let running = inFlight[cacheKey] { return try await running.value }
        lastAttempt[cacheKey] = clock.now()
        let task = Task { try await self.fetch(discoveryURL: discoveryURL, caCert: caCert) }
        inFlight[cacheKey] = task
        defer { inFlight[cacheKey] = nil }
        let set = try await task.value
        if cache[cacheKey] == nil, cache.count >= Self.maxIssuers,
           let oldest = cache.min(by: { $0.value.fetchedAt < $1.value.fetchedAt })?.key {
            cache[oldest] = nil
        }
        if lastAttempt.count > Self.maxIssuers * 2 { lastAttempt = lastAttempt.filter { cache[$0.key] != nil } }
        cache[cacheKey] = set
        return set
    }

    private func fetch(discoveryURL: String, caCert: String) async throws -> OIDCKeySet {
        let discovery = try await getJSON(discoveryURL + "/.well-known/openid-configuration", caCert: caCert, what: "discovery document")
        guard let jwksURI = discovery["jwks_uri"]?.string else { throw APIError.badGateway("the OIDC discovery document at \(discoveryURL) has no jwks_uri") }
        let jwks = try await getJSON(jwksURI, caCert: caCert, what: "JWKS")
        guard let entries = jwks["keys"]?.array else { throw APIError.badGateway("the JWKS at \(jwksURI) has no keys") }
        var keys: [String: OIDCVerificationKey] = [:]
        for entry in entries.prefix(Self.maxKeys) {
            guard let key = try? await Self.verificationKey(entry, soleKey: entries.count == 1) else { continue }
            keys[key.kid] = key.key
        }
        logger.info("OIDC keys fetched", metadata: ["discoveryUrl": "\(discoveryURL)", "keys": "\(keys.count)"])
        return OIDCKeySet(keys: keys, fetchedAt: clock.now())
    }

    /// A JWK as a key pinned to one algorithm; nil for keys not meant for signatures or of a
    /// kind we do not accept.
    static func verificationKey(_ entry: JSONValue, soleKey: Bool) async throws -> (kid: String, key: OIDCVerificationKey)? {
        guard var object = entry.object else { return nil }
        if let use = object["use"]?.string, use != "sig" { return nil }
        let kty = object["kty"]?.string ?? "", crv = object["crv"]?.string ?? ""
        let implied: String? = switch (kty, crv) {
        case ("RSA", _): "RS256"
        case ("EC", "P-256"): "ES256"
        case ("EC", "P-384"): "ES384"
        default: nil
        }
        guard let algorithm = object["alg"]?.string ?? implied, OIDCTokenVerifier.accepts(algorithm: algorithm, keyType: kty, curve: crv) else { return nil }
        // A private part in a published key set is a broken issuer; never use it.
        guard object["d"] == nil else { return nil }
        guard let kid = object["kid"]?.string ?? (soleKey ? "" : nil) else { return nil }
        object["alg"] = .string(algorithm)
        object["kid"] = .string(kid.isEmpty ? "sole-key" : kid)
        let jwk = try JWK(json: String(decoding: try JSONEncoder().encode(JSONValue.object(object)), as: UTF8.self))
        let keys = JWTKeyCollection()
        try await keys.add(jwk: jwk, isDefault: true)
        return (kid, OIDCVerificationKey(algorithm: algorithm, keys: keys))
    }

    /// GETs a JSON document from a URL the egress policy allows, over https, with the config's
    /// CA, a time limit and a size limit; every failure is a 502 naming the document.
    private func getJSON(_ address: String, caCert: String, what: String) async throws -> JSONValue {
        // The name pinned must be the name the HTTP client connects to: both parsers must agree.
        guard let url = URLComponents(string: address), url.scheme?.lowercased() == "https", let host = url.host, !host.isEmpty, url.user == nil,
              URL(string: address)?.host == host else {
            throw APIError.badGateway("the OIDC \(what) URL \(address.prefix(256)) is not an https URL")
        }
        var request = HTTPClientRequest(url: address)
        request.headers.add(name: "Accept", value: "application/json")
        do {
            if !caCert.isEmpty {
                var tls = TLSConfiguration.makeClientConfiguration()
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caCert.utf8)))
                request.tlsConfiguration = tls
            }
            // Connects to the address the policy checked, not to a second lookup of the name (a
            // rebinding DNS answer could otherwise point the fetch at an internal service).
            return try await PinnedHTTPClients.once(host: host, egress: egress) { client in
                let response = try await client.execute(request, timeout: Self.timeout)
                guard response.status == .ok else { throw APIError.badGateway("the OIDC \(what) at \(address.prefix(256)) answered \(response.status.code)") }
                let body = try await response.body.collect(upTo: Self.maxDocumentBytes)
                guard let document = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer: body)), document.object != nil else {
                    throw APIError.badGateway("the OIDC \(what) at \(address.prefix(256)) is not a JSON object")
                }
                return document
            }
        } catch let refused as EgressRefusal {
            throw APIError.badGateway("the OIDC \(what) may not be fetched: \(refused.description)")
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.badGateway("the OIDC \(what) at \(address.prefix(256)) could not be fetched: \(error)")
        }
    }
}
