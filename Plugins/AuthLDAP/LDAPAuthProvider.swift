import Core
import Foundation
import NIOSSL

/// An attribute the user's entry must carry with one of the listed (comma-separated) values.
struct LDAPAllowedField: Codable, Sendable, Equatable {
    let key: String
    let value: String
}

/// LDAP Auth's own part of a config. The service account's password is sealed at rest and
/// never part of an answer.
struct LDAPAuthConfig: Encodable, Sendable {
    let url: String
    let bindDN: String
    let bindPass: String
    let searchBase: String
    let searchFilter: String
    let allowedFields: [LDAPAllowedField]
    let allowedGroupDNs: [String]
    let ldapCaCertificate: String

    enum CodingKeys: String, CodingKey { case url, bindDN, searchBase, searchFilter, allowedFields, allowedGroupDNs, ldapCaCertificate }
}

/// The provider's fields of an attach or update body.
struct LDAPAuthInput: Decodable, Sendable {
    let url: String?
    let bindDN: String?
    let bindPass: String?
    let searchBase: String?
    let searchFilter: String?
    let allowedFields: [LDAPAllowedField]?
    let allowedGroupDNs: [String]?
    let ldapCaCertificate: String?
}

struct LDAPAuthProvider: IdentityAuthProvider {
    let sealer: Sealer
    let egress: EgressPolicy
    static let defaultFilter = "(uid={{username}})"
    static let sealingContext = "ldap-auth-bind-password"

    var method: String { "ldap-auth" }
    var configTable: String { "ldap_auth_configs" }
    var responseKey: String { "identityLdapAuth" }
    var displayName: String { "LDAP Auth" }

    func config(from row: DBRow) throws -> LDAPAuthConfig {
        LDAPAuthConfig(url: try row.string("url"), bindDN: try row.string("bind_dn"),
                       bindPass: try sealer.open(try row.string("sealed_bind_pass"), context: Self.sealingContext),
                       searchBase: try row.string("search_base"), searchFilter: try row.string("search_filter"),
                       allowedFields: try JSONDecoder().decode([LDAPAllowedField].self, from: Data(try row.string("allowed_fields").utf8)),
                       allowedGroupDNs: try JSONDecoder().decode([String].self, from: Data(try row.string("allowed_group_dns").utf8)),
                       ldapCaCertificate: try row.string("ca_cert"))
    }

    func columns(of config: LDAPAuthConfig) throws -> [(String, DBValue)] {
        [("url", .text(config.url)), ("bind_dn", .text(config.bindDN)),
         ("sealed_bind_pass", .text(try sealer.seal(config.bindPass, context: Self.sealingContext))),
         ("search_base", .text(config.searchBase)), ("search_filter", .text(config.searchFilter)),
         ("allowed_fields", .text(String(decoding: try JSONEncoder().encode(config.allowedFields), as: UTF8.self))),
         ("allowed_group_dns", .text(String(decoding: try JSONEncoder().encode(config.allowedGroupDNs), as: UTF8.self))),
         ("ca_cert", .text(config.ldapCaCertificate))]
    }

    func config(from input: LDAPAuthInput, current: LDAPAuthConfig?) async throws -> LDAPAuthConfig {
        let url = try await checkedURL(input.url ?? current?.url)
        let bindDN = try text(input.bindDN ?? current?.bindDN, "bindDN", max: 1024)
        guard let bindPass = input.bindPass ?? current?.bindPass, !bindPass.isEmpty, bindPass.count <= 1024 else {
            throw APIError.badRequest("bindPass is required: the service account's password (an empty one would bind anonymously)")
        }
        let searchBase = try text(input.searchBase ?? current?.searchBase, "searchBase", max: 1024)
        let filter = (input.searchFilter ?? current?.searchFilter ?? Self.defaultFilter).trimmingCharacters(in: .whitespaces)
        guard filter.count <= 1024, filter.hasPrefix("("), filter.hasSuffix(")"), filter.contains("{{username}}"), Self.balanced(filter) else {
            throw APIError.badRequest("searchFilter must be a parenthesized LDAP filter holding {{username}}, e.g. \(Self.defaultFilter)")
        }
        let fields = input.allowedFields ?? current?.allowedFields ?? []
        guard fields.count <= 20 else { throw APIError.badRequest("allowedFields may hold at most 20 fields") }
        for field in fields where !Self.isAttributeName(field.key) || field.value.trimmingCharacters(in: .whitespaces).isEmpty || field.value.count > 4096 {
            throw APIError.badRequest("allowedFields: '\(field.key.prefix(64))' needs an attribute name (letters, digits, '-') and at least one value")
        }
        let groups = try (input.allowedGroupDNs ?? current?.allowedGroupDNs ?? []).map { try text($0, "allowedGroupDNs", max: 1024) }
        guard groups.count <= 20 else { throw APIError.badRequest("allowedGroupDNs may hold at most 20 groups") }
        let ca = try checkedCA(input.ldapCaCertificate ?? current?.ldapCaCertificate ?? "")
        return LDAPAuthConfig(url: url, bindDN: bindDN, bindPass: bindPass, searchBase: searchBase, searchFilter: filter,
                              allowedFields: fields, allowedGroupDNs: groups, ldapCaCertificate: ca)
    }

    private func text(_ value: String?, _ field: String, max: Int) throws -> String {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty, value.count <= max,
              !value.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw APIError.badRequest("\(field) is required (at most \(max) characters, no control characters)")
        }
        return value
    }

    /// `ldaps://host[:port]` or `ldap://host[:port]` (always upgraded with StartTLS), to a host
    /// the egress policy allows.
    func checkedURL(_ text: String?) async throws -> String {
        var url = (text ?? "").trimmingCharacters(in: .whitespaces)
        while url.hasSuffix("/") { url.removeLast() }
        guard url.count <= 512, let parts = URLComponents(string: url), ["ldap", "ldaps"].contains(parts.scheme?.lowercased() ?? ""),
              let host = parts.host, !host.isEmpty, host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-:[]".contains($0)) }), parts.user == nil, parts.path.isEmpty, parts.query == nil, parts.fragment == nil else {
            throw APIError.badRequest("url must be ldaps://HOST[:PORT] or ldap://HOST[:PORT] (upgraded with StartTLS; plaintext is never used)")
        }
        do { try await egress.check(host: host) } catch let refused as EgressRefusal {
            throw APIError.badRequest("url: \(refused.description)")
        }
        return url
    }

    private func checkedCA(_ pem: String) throws -> String {
        let text = pem.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return "" }
        guard text.utf8.count <= 65_536, let certificates = try? NIOSSLCertificate.fromPEMBytes(Array(text.utf8)), !certificates.isEmpty else {
            throw APIError.badRequest("ldapCaCertificate must be one or more PEM certificates (at most 64 KiB)")
        }
        return text
    }

    static func isAttributeName(_ name: String) -> Bool {
        (1...64).contains(name.count) && name.first!.isLetter && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }

    /// Whether parentheses nest properly (escaped ones are `\28` / `\29`, never literal).
    static func balanced(_ filter: String) -> Bool {
        var depth = 0
        for c in filter {
            if c == "(" { depth += 1 } else if c == ")" { depth -= 1; if depth < 0 { return false } }
        }
        return depth == 0
    }

    func auditMetadata(of config: LDAPAuthConfig) -> [String: String] {
        ["url": config.url, "bindDN": config.bindDN, "searchBase": config.searchBase, "searchFilter": config.searchFilter,
         "allowedGroupDNs": config.allowedGroupDNs.joined(separator: ";")]
    }
}
