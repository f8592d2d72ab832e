import Core
import Foundation
import NIOSSL

/// OIDC Auth's own part of a config: where the issuer publishes its keys and what a token must
/// say to be admitted.
struct OIDCAuthConfig: Encodable, Sendable {
    /// The issuer's base URL; `/.well-known/openid-configuration` is read below it.
    let oidcDiscoveryUrl: String
    /// PEM certificates trusted for the discovery and JWKS requests ("" = the system's roots).
    let caCert: String
    let boundIssuer: String
    /// Comma-separated; the token's `aud` must hold at least one.
    let boundAudiences: String
    /// Claim (a dotted path reaches into objects) -> comma-separated allowed values, `*` globs.
    let boundClaims: [String: String]
    /// `*` globs; "" admits any subject.
    let boundSubject: String

    var audiences: [String] { OIDCAuthConfig.list(boundAudiences) }

    static func list(_ csv: String) -> [String] {
        csv.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// The provider's fields of an attach or update body.
struct OIDCAuthInput: Decodable, Sendable {
    let oidcDiscoveryUrl: String?
    let caCert: String?
    let boundIssuer: String?
    let boundAudiences: String?
    let boundClaims: [String: String]?
    let boundSubject: String?
}

struct OIDCAuthProvider: IdentityAuthProvider {
    /// Decides which discovery hosts a tenant may name.
    let egress: EgressPolicy

    var method: String { "oidc-auth" }
    var configTable: String { "oidc_auth_configs" }
    var responseKey: String { "identityOidcAuth" }
    var displayName: String { "OIDC Auth" }

    func config(from row: DBRow) throws -> OIDCAuthConfig {
        let claims = try JSONDecoder().decode([String: String].self, from: Data(try row.string("bound_claims").utf8))
        return OIDCAuthConfig(oidcDiscoveryUrl: try row.string("discovery_url"), caCert: try row.string("ca_cert"),
                              boundIssuer: try row.string("bound_issuer"), boundAudiences: try row.string("bound_audiences"),
                              boundClaims: claims, boundSubject: try row.string("bound_subject"))
    }

    func columns(of config: OIDCAuthConfig) throws -> [(String, DBValue)] {
        let claims = String(decoding: try JSONEncoder().encode(config.boundClaims), as: UTF8.self)
        return [("discovery_url", .text(config.oidcDiscoveryUrl)), ("ca_cert", .text(config.caCert)), ("bound_issuer", .text(config.boundIssuer)),
                ("bound_audiences", .text(config.boundAudiences)), ("bound_claims", .text(claims)), ("bound_subject", .text(config.boundSubject))]
    }

    func config(from input: OIDCAuthInput, current: OIDCAuthConfig?) async throws -> OIDCAuthConfig {
        guard let url = input.oidcDiscoveryUrl ?? current?.oidcDiscoveryUrl else { throw APIError.badRequest("oidcDiscoveryUrl is required") }
        let discovery = try await checkedDiscoveryURL(url)
        let caCert = try (input.caCert ?? current?.caCert).map(checkedCACert) ?? ""
        guard let issuer = (input.boundIssuer ?? current?.boundIssuer)?.trimmingCharacters(in: .whitespaces), !issuer.isEmpty, issuer.count <= 1024 else {
            throw APIError.badRequest("boundIssuer is required: the exact `iss` of the tokens to admit")
        }
        let audiences = OIDCAuthConfig.list(input.boundAudiences ?? current?.boundAudiences ?? "")
        guard !audiences.isEmpty, audiences.count <= 50, audiences.allSatisfy({ $0.count <= 512 }) else {
            throw APIError.badRequest("boundAudiences is required: a comma-separated list of accepted `aud` values (at most 50)")
        }
        let claims = input.boundClaims ?? current?.boundClaims ?? [:]
        guard claims.count <= 50 else { throw APIError.badRequest("boundClaims may hold at most 50 claims") }
        for (name, values) in claims {
            guard (1...256).contains(name.count), !name.hasPrefix("."), !name.hasSuffix("."), !name.contains("..") else {
                throw APIError.badRequest("boundClaims: '\(name.prefix(64))' is not a claim name (1-256 characters; dots separate nested claims)")
            }
            guard !OIDCAuthConfig.list(values).isEmpty, values.count <= 4096 else {
                throw APIError.badRequest("boundClaims.\(name) must list at least one allowed value")
            }
        }
        let subject = (input.boundSubject ?? current?.boundSubject ?? "").trimmingCharacters(in: .whitespaces)
        guard subject.count <= 1024 else { throw APIError.badRequest("boundSubject must be at most 1024 characters") }
        // Public issuers (a CI service's) sign tokens for anyone who asks, for any audience: the
        // subject or a claim must name the workload.
        guard !subject.isEmpty || !claims.isEmpty, subject != "*" || !claims.isEmpty else {
            throw APIError.badRequest("boundSubject or boundClaims is required: without them any workload the issuer serves could log in")
        }
        return OIDCAuthConfig(oidcDiscoveryUrl: discovery, caCert: caCert, boundIssuer: issuer, boundAudiences: audiences.joined(separator: ", "),
                              boundClaims: claims, boundSubject: subject)
    }

    /// An https URL with no credentials, query or fragment, to a host the egress policy allows.
    func checkedDiscoveryURL(_ text: String) async throws -> String {
        var trimmed = text.trimmingCharacters(in: .whitespaces)
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard trimmed.count <= 2048, let url = URLComponents(string: trimmed), url.scheme?.lowercased() == "https",
              let host = url.host, !host.isEmpty, url.user == nil, url.password == nil, url.query == nil, url.fragment == nil else {
            throw APIError.badRequest("oidcDiscoveryUrl must be an https URL without credentials, query or fragment (the issuer's base URL)")
        }
        do {
            try await egress.check(host: host)
        } catch let refused as EgressRefusal {
            throw APIError.badRequest("oidcDiscoveryUrl: \(refused.description)")
        }
        return trimmed
    }

    /// One or more PEM certificates, or "" for the system's roots.
    func checkedCACert(_ pem: String) throws -> String {
        let text = pem.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return "" }
        guard text.utf8.count <= 65_536, let certificates = try? NIOSSLCertificate.fromPEMBytes(Array(text.utf8)), !certificates.isEmpty else {
            throw APIError.badRequest("caCert must be one or more PEM certificates (at most 64 KiB)")
        }
        return text
    }

    func auditMetadata(of config: OIDCAuthConfig) -> [String: String] {
        ["oidcDiscoveryUrl": config.oidcDiscoveryUrl, "boundIssuer": config.boundIssuer, "boundAudiences": config.boundAudiences,
         "boundSubject": config.boundSubject, "boundClaims": config.boundClaims.keys.sorted().joined(separator: ",")]
    }
}
