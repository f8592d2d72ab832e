import Core
import Foundation

/// Universal Auth's own part of a config: the client id (made at attach, never changed) and the
/// addresses client secrets may be used from.
struct UniversalAuthConfig: Encodable, Sendable {
    let clientId: String
    let clientSecretTrustedIps: [AccessTokenSettings.TrustedIP]

    var trustedRanges: [IPRange] { clientSecretTrustedIps.compactMap { IPRange($0.ipAddress) } }
}

/// The provider's fields of an attach or update body.
struct UniversalAuthInput: Decodable, Sendable {
    let clientSecretTrustedIps: [AccessTokenSettings.TrustedIP]?
}

struct UniversalAuthProvider: IdentityAuthProvider {
    var method: String { "universal-auth" }
    var configTable: String { "universal_auth_configs" }
    var responseKey: String { "identityUniversalAuth" }
    var displayName: String { "Universal Auth" }

    func config(from row: DBRow) throws -> UniversalAuthConfig {
        UniversalAuthConfig(clientId: try row.string("client_id"),
                            clientSecretTrustedIps: AccessTokenSettings.trustedIPs(fromJSON: try row.string("client_secret_trusted_ips")).map { .init(ipAddress: $0.description) })
    }

    func columns(of config: UniversalAuthConfig) -> [(String, DBValue)] {
        let ranges = (try? JSONEncoder().encode(config.clientSecretTrustedIps.map(\.ipAddress))).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        return [("client_id", .text(config.clientId)), ("client_secret_trusted_ips", .text(ranges))]
    }

    func config(from input: UniversalAuthInput, current: UniversalAuthConfig?) throws -> UniversalAuthConfig {
        var ranges = current?.clientSecretTrustedIps ?? IPRange.everywhere.map { .init(ipAddress: $0.description) }
        if let given = input.clientSecretTrustedIps {
            guard !given.isEmpty else { throw APIError.badRequest("clientSecretTrustedIps must list at least one address or range") }
            for ip in given where IPRange(ip.ipAddress) == nil {
                throw APIError.badRequest("clientSecretTrustedIps: '\(ip.ipAddress)' is not an IP address or CIDR range")
            }
            ranges = given.map { .init(ipAddress: IPRange($0.ipAddress)!.description) }
        }
        return UniversalAuthConfig(clientId: current?.clientId ?? SecureRandom.id(), clientSecretTrustedIps: ranges)
    }

    func auditMetadata(of config: UniversalAuthConfig) -> [String: String] {
        ["clientId": config.clientId, "clientSecretTrustedIps": config.clientSecretTrustedIps.map(\.ipAddress).joined(separator: ",")]
    }
}
