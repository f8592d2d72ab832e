import CLDAP
import Foundation

/// An error from the directory, with libldap's result code and text.
struct LDAPError: Error, CustomStringConvertible {
    let code: Int32
    let operation: String
    var description: String { "\(operation): \(String(cString: ldap_err2string(code))) (\(code))" }
    var isInvalidCredentials: Bool { code == LDAP_INVALID_CREDENTIALS }
}

/// One synchronous connection to a directory through OpenLDAP's libldap. Every call blocks:
/// use it only from ``LDAPDirectory``, which runs a whole exchange off the concurrency pool.
/// The connection is always encrypted: `ldaps://`, or `ldap://` upgraded with StartTLS, the
/// server's certificate verified against the system's roots or the config's CA.
final class LDAPConnection {
    private var handle: OpaquePointer?

    /// Connects (lazily, as libldap does) with `timeout` seconds for the network and each operation.
    init(url: String, caFile: String?, timeout: Int) throws {
        var ld: OpaquePointer?
        let status = ldap_initialize(&ld, url)
        guard status == LDAP_SUCCESS, let ld else { throw LDAPError(code: status, operation: "connect to \(url)") }
        handle = ld
        try setInt(LDAP_OPT_PROTOCOL_VERSION, 3)
        try set(LDAP_OPT_REFERRALS, nil)  // LDAP_OPT_OFF: a referral could lead anywhere
        var network = timeval(tv_sec: timeout, tv_usec: 0)
        try set(LDAP_OPT_NETWORK_TIMEOUT, &network)
        var operation = timeval(tv_sec: timeout, tv_usec: 0)
        try set(LDAP_OPT_TIMEOUT, &operation)
        try setInt(LDAP_OPT_X_TLS_REQUIRE_CERT, LDAP_OPT_X_TLS_DEMAND)
        // The system's roots unless the config names a CA (ldap.conf is not read: LDAPNOINIT).
        if let trusted = caFile ?? Self.systemRoots { try set(LDAP_OPT_X_TLS_CACERTFILE, trusted) }
        // The TLS options above apply to this handle only once it has a context of its own.
        try setInt(LDAP_OPT_X_TLS_NEWCTX, 0)
        if url.lowercased().hasPrefix("ldap://") {
            let tls = ldap_start_tls_s(ld, nil, nil)
            guard tls == LDAP_SUCCESS else { throw LDAPError(code: tls, operation: "StartTLS with \(url)") }
        }
    }

    static let systemRoots = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"]
        .first { FileManager.default.fileExists(atPath: $0) }

    deinit { if let handle { ldap_unbind_ext_s(handle, nil, nil) } }

    private func setInt(_ option: Int32, _ value: Int32) throws {
        var value = value
        try set(option, &value)
    }

    private func set(_ option: Int32, _ value: UnsafeRawPointer?) throws {
        let status = ldap_set_option(handle, option, value)
        guard status == LDAP_OPT_SUCCESS else { throw LDAPError(code: status, operation: "set option \(option)") }
    }

    private func set(_ option: Int32, _ text: String) throws {
        let status = text.withCString { ldap_set_option(handle, option, $0) }
        guard status == LDAP_OPT_SUCCESS else { throw LDAPError(code: status, operation: "set option \(option)") }
    }

    /// A simple bind. Callers refuse empty passwords first: to a directory, a simple bind with
    /// an empty password is an anonymous bind and succeeds.
    func bind(dn: String, password: String) throws {
        precondition(!password.isEmpty, "an empty password is an unauthenticated bind")
        var bytes = Array(password.utf8CString)
        let status = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var credential = berval(bv_len: ber_len_t(buffer.count - 1), bv_val: buffer.baseAddress)
            return ldap_sasl_bind_s(handle, dn, nil, &credential, nil, nil, nil)
        }
        // Clear our copy of the password as soon as it is sent.
        for i in bytes.indices { bytes[i] = 0 }
        guard status == LDAP_SUCCESS else { throw LDAPError(code: status, operation: "bind") }
    }

    /// An entry found by a search: its DN and the attributes asked for.
    struct Entry {
        let dn: String
        let attributes: [String: [String]]
    }

    /// Searches `base` (subtree, or the base entry alone) with `filter` for at most `limit`
    /// entries; `truncated` when the directory holds more.
    func search(base: String, filter: String, attributes: [String], baseOnly: Bool = false, limit: Int32) throws -> (entries: [Entry], truncated: Bool) {
        var result: OpaquePointer?
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        var names = attributes.map { strdup($0) } + [nil]
        defer { for name in names { free(name) } }
        let status = ldap_search_ext_s(handle, base, baseOnly ? 0 : 2, filter, &names, 0, nil, nil, &timeout, limit, &result)
        defer { if let result { ldap_msgfree(result) } }
        // A base search of an entry that does not exist answers noSuchObject: no entries.
        if status == 0x20 { return ([], false) }
        guard status == LDAP_SUCCESS || status == LDAP_SIZELIMIT_EXCEEDED else { throw LDAPError(code: status, operation: "search") }
        var entries: [Entry] = []
        var entry = ldap_first_entry(handle, result)
        while let current = entry {
            guard let dnPointer = ldap_get_dn(handle, current) else { break }
            let dn = String(cString: dnPointer)
            ldap_memfree(dnPointer)
            var values: [String: [String]] = [:]
            for attribute in attributes {
                guard let list = ldap_get_values_len(handle, current, attribute) else { continue }
                var index = 0
                while let value = list[index] {
                    let bytes = UnsafeRawBufferPointer(start: value.pointee.bv_val, count: Int(value.pointee.bv_len))
                    values[attribute, default: []].append(String(decoding: bytes, as: UTF8.self))
                    index += 1
                }
                ldap_value_free_len(list)
            }
            entries.append(Entry(dn: dn, attributes: values))
            entry = ldap_next_entry(handle, current)
        }
        return (entries, status == LDAP_SIZELIMIT_EXCEEDED)
    }
}

/// RFC 4515 escaping of a value placed in a search filter, so input can only ever be a value:
/// `*`, `(`, `)`, `\` and NUL (and every byte outside printable ASCII) become `\xx`.
enum LDAPFilter {
    static func escape(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "*"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\\"), 0, 0x80...0xff, 0..<0x20, 0x7f:
                out += String(format: "\\%02x", byte)
            default:
                out.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return out
    }

    /// The config's filter with `{{username}}` replaced by the escaped user name.
    static func render(_ template: String, username: String) -> String {
        template.replacingOccurrences(of: "{{username}}", with: escape(username))
    }
}
