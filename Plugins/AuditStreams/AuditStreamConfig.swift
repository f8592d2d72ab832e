import Core
import Foundation
import NIOSSL

/// Where a stream sends: the public part of its config (stored as JSON, shown on GET).
struct StreamDestination: Codable, Sendable, Equatable {
    var url: String?
    var host: String?
    var port: Int?
    var tls: Bool?
    var caCert: String?
    var path: String?
    /// Header names; their values are sealed with the secret.
    var headerNames: [String]?
}

/// The sealed part: the webhook's HMAC key and header values.
struct StreamSecrets: Codable, Sendable {
    var secret: String?
    var headers: [String: String]?
}

/// The body of a create or update.
struct StreamInput: Decodable, Sendable {
    let name: String?
    let kind: String?
    let startFrom: String?
    let url: String?
    let secret: String?
    let headers: [String: String]?
    let host: String?
    let port: Int?
    let tls: Bool?
    let caCert: String?
    let path: String?
}

/// Validates stream configs: every destination a tenant names passes the egress policy; a file
/// is the instance admin's alone.
struct StreamValidator: Sendable {
    let egress: EgressPolicy
    static let kinds = ["webhook", "syslog", "file"]
    /// Headers the server sets itself.
    static let reservedHeaders: Set<String> = ["host", "content-length", "content-type", "x-kms-signature", "transfer-encoding", "connection",
                                               "user-agent", "expect", "te", "upgrade", "proxy-authorization", "proxy-connection", "keep-alive"]

    func validate(kind: String, input: StreamInput, current: (StreamDestination, StreamSecrets)?) async throws -> (StreamDestination, StreamSecrets) {
        switch kind {
        case "webhook": return try await webhook(input, current)
        case "syslog": return try await syslog(input, current?.0)
        case "file": return (try file(input, current?.0), StreamSecrets())
        default: throw APIError.badRequest("kind must be webhook, syslog or file")
        }
    }

    private func webhook(_ input: StreamInput, _ current: (StreamDestination, StreamSecrets)?) async throws -> (StreamDestination, StreamSecrets) {
        guard let url = input.url ?? current?.0.url else { throw APIError.badRequest("url is required for a webhook stream") }
        let parts = try await Webhook.checkedURL(url, egress: egress)
        let scheme = parts.scheme?.lowercased() ?? "", host = parts.host ?? ""
        // Moving a stream elsewhere must not carry another admin's secret and headers along.
        if let old = current?.0.url.flatMap({ URLComponents(string: $0) }),
           old.host?.lowercased() != host.lowercased() || old.scheme?.lowercased() != scheme || old.port != parts.port {
            guard input.secret != nil, input.headers != nil || (current?.1.headers ?? [:]).isEmpty else {
                throw APIError.badRequest("changing the url's scheme, host or port needs secret (and headers, if the stream has any) sent again")
            }
        }
        guard let secret = input.secret ?? current?.1.secret, (16...1024).contains(secret.count) else {
            throw APIError.badRequest("secret is required: 16-1024 characters, the HMAC-SHA256 key of the X-KMS-Signature header")
        }
        let headers = input.headers ?? current?.1.headers ?? [:]
        guard headers.count <= 20 else { throw APIError.badRequest("headers may hold at most 20 headers") }
        for (name, value) in headers {
            guard (1...128).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "!#$%&'*+-.^_`|~".contains($0)) }) else {
                throw APIError.badRequest("headers: '\(name.prefix(64))' is not a header name")
            }
            guard !Self.reservedHeaders.contains(name.lowercased()) else { throw APIError.badRequest("headers: \(name) is set by the server") }
            // Scalars, not Characters: "\r\n" is one Character that equals neither "\r" nor "\n".
            guard value.count <= 4096, !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
                throw APIError.badRequest("headers: the value of \(name) must be at most 4096 characters on one line")
            }
        }
        return (StreamDestination(url: url, headerNames: headers.keys.sorted()), StreamSecrets(secret: secret, headers: headers))
    }

    private func syslog(_ input: StreamInput, _ current: StreamDestination?) async throws -> (StreamDestination, StreamSecrets) {
        guard let host = (input.host ?? current?.host)?.trimmingCharacters(in: .whitespaces), (1...253).contains(host.count),
              host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-:".contains($0)) }) else {
            throw APIError.badRequest("host is required for a syslog stream: a host name or address")
        }
        let port = input.port ?? current?.port ?? 6514
        guard (1...65535).contains(port) else { throw APIError.badRequest("port must be 1-65535") }
        try await checkHost(host, field: "host")
        let tls = input.tls ?? current?.tls ?? true
        var ca = input.caCert ?? current?.caCert
        if let pem = ca?.trimmingCharacters(in: .whitespacesAndNewlines) {
            ca = pem.isEmpty ? nil : pem
            if let pem = ca {
                guard pem.utf8.count <= 65_536, let certificates = try? NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)), !certificates.isEmpty else {
                    throw APIError.badRequest("caCert must be one or more PEM certificates")
                }
            }
        }
        guard tls || egress.allows(host: host) else {
            throw APIError.badRequest("tls must be true (plain TCP only to hosts the operator allows in \(egress.settingName))")
        }
        return (StreamDestination(host: host, port: port, tls: tls, caCert: tls ? ca : nil), StreamSecrets())
    }

    private func file(_ input: StreamInput, _ current: StreamDestination?) throws -> StreamDestination {
        guard let path = input.path ?? current?.path, path.hasPrefix("/"), path.count <= 1024, !path.contains("/../"), !path.hasSuffix("/.."),
              !path.contains("\0") else {
            throw APIError.badRequest("path must be an absolute file path")
        }
        var isDirectory: ObjCBool = false
        let parent = (path as NSString).deletingLastPathComponent
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw APIError.badRequest("path: the directory \(parent) does not exist")
        }
        return StreamDestination(path: path)
    }

    private func checkHost(_ host: String, field: String) async throws {
        do { try await egress.check(host: host) } catch let refused as EgressRefusal {
            throw APIError.badRequest("\(field): \(refused.description)")
        }
    }
}
