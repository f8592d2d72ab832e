import Core
import Foundation

/// The LDAP exchange of one login, run off the concurrency pool (libldap blocks): connect over
/// TLS, bind as the service account, find the user by the config's filter, check the user's
/// attributes and groups, then bind as the user with the given password.
struct LDAPDirectory: Sendable {
    let caFiles: LDAPCAFiles
    /// Checked again at every login: a name's addresses may have changed since the config was saved.
    let egress: EgressPolicy
    static let timeout = 5
    /// libldap blocks: exchanges run on threads of their own, a bounded number at once, so a slow
    /// or hostile directory can hold only these, never the shared pools.
    static let pool = BlockingWorkPool(label: "kms.ldap", concurrency: 16, maxWaiting: 256, busyMessage: "too many LDAP logins in progress; retry shortly")

    /// What a successful check found.
    struct Verified: Sendable { let dn: String }

    /// Verifies `username` / `password`. A refusal of the user is a ``LoginRefusal``; a
    /// directory that cannot be reached or refuses the service account is a 502.
    func verify(config: LDAPAuthConfig, username: String, password: String) async throws -> Verified {
        let caFile = try config.ldapCaCertificate.isEmpty ? nil : caFiles.path(for: config.ldapCaCertificate)
        do {
            try await egress.check(host: URLComponents(string: config.url)?.host ?? "")
        } catch let refused as EgressRefusal {
            throw APIError.badGateway("the LDAP server may not be contacted: \(refused.description)")
        }
        return try await Self.pool.run { try Self.exchange(config: config, caFile: caFile, username: username, password: password) }
    }

    private static func exchange(config: LDAPAuthConfig, caFile: String?, username: String, password: String) throws -> Verified {
        let connection: LDAPConnection
        do {
            connection = try LDAPConnection(url: config.url, caFile: caFile, timeout: timeout)
            try connection.bind(dn: config.bindDN, password: config.bindPass)
        } catch let error as LDAPError {
            throw APIError.badGateway("the LDAP server at \(config.url) refused the service account or could not be reached: \(error)")
        }
        // `uid` for the group check: the entry's own name, never the one the caller typed.
        let attributes = Array(Set(config.allowedFields.map(\.key) + ["uid"]))
        let found: (entries: [LDAPConnection.Entry], truncated: Bool)
        do {
            found = try connection.search(base: config.searchBase, filter: LDAPFilter.render(config.searchFilter, username: username),
                                          attributes: attributes, limit: 2)
        } catch let error as LDAPError {
            throw APIError.badGateway("the LDAP search failed: \(error)")
        }
        guard !found.truncated, found.entries.count <= 1 else { throw LoginRefusal("the search filter matches more than one entry for '\(username)'") }
        guard let user = found.entries.first else { throw LoginRefusal("no entry matches '\(username)'") }
        for field in config.allowedFields {
            let allowed = field.value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard (user.attributes[field.key] ?? []).contains(where: allowed.contains) else {
                throw LoginRefusal("\(user.dn) has no allowed value of \(field.key)", metadata: ["userDN": user.dn])
            }
        }
        if !config.allowedGroupDNs.isEmpty {
            let uids = (user.attributes["uid"] ?? []).map { "(memberUid=\(LDAPFilter.escape($0)))" }.joined()
            let filter = "(|(member=\(LDAPFilter.escape(user.dn)))(uniqueMember=\(LDAPFilter.escape(user.dn)))\(uids))"
            let member = try config.allowedGroupDNs.contains { group in
                do {
                    return !(try connection.search(base: group, filter: filter, attributes: ["1.1"], baseOnly: true, limit: 1).entries.isEmpty)
                } catch let error as LDAPError {
                    throw APIError.badGateway("the LDAP group search failed: \(error)")
                }
            }
            guard member else { throw LoginRefusal("\(user.dn) is in none of the allowed groups", metadata: ["userDN": user.dn]) }
        }
        do {
            try connection.bind(dn: user.dn, password: password)
        } catch let error as LDAPError where error.isInvalidCredentials {
            throw LoginRefusal("wrong password for \(user.dn)", metadata: ["userDN": user.dn])
        } catch let error as LDAPError {
            throw APIError.badGateway("the LDAP bind as the user failed: \(error)")
        }
        return Verified(dn: user.dn)
    }
}

/// The config's CA certificates as files, which is how libldap takes them: one private file
/// per distinct certificate text, in a directory of this process's own.
final class LDAPCAFiles: Sendable {
    let directory: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/kms-ldap-ca-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw APIError.unavailable("cannot create a directory for LDAP CA certificates") }
        directory = String(cString: made)
    }

    func path(for pem: String) throws -> String {
        let path = directory + "/" + SecureRandom.sha256Hex(pem) + ".pem"
        if FileManager.default.fileExists(atPath: path) { return path }
        let staging = path + "." + SecureRandom.id()
        guard FileManager.default.createFile(atPath: staging, contents: Data(pem.utf8), attributes: [.posixPermissions: 0o600]),
              rename(staging, path) == 0 else {
            throw APIError.unavailable("cannot write the LDAP CA certificate file")
        }
        return path
    }
}
