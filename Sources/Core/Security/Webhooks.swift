import Crypto
import Foundation

/// What every outgoing webhook shares (audit streams, PAM notifications): the URL check and
/// the body signature.
public enum Webhook {
    /// The header receivers check.
    public static let signatureHeader = "X-KMS-Signature"

    /// `sha256=` and the hex HMAC-SHA256 of `body` keyed with `secret`.
    public static func signature(body: [UInt8], secret: String) -> String {
        "sha256=" + hexString(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))))
    }

    /// A webhook URL a tenant chose: https (http only for hosts the operator allows), no
    /// credentials or fragment, to a host the egress policy allows now. A 400 says what is wrong.
    public static func checkedURL(_ text: String, field: String = "url", egress: EgressPolicy) async throws -> URLComponents {
        guard text.count <= 2048, let parts = URLComponents(string: text), let scheme = parts.scheme?.lowercased(), let host = parts.host, !host.isEmpty,
              parts.user == nil, parts.password == nil, parts.fragment == nil else {
            throw APIError.badRequest("\(field) must be an https URL without credentials or fragment")
        }
        guard scheme == "https" || (scheme == "http" && egress.allows(host: host)) else {
            throw APIError.badRequest("\(field) must be https (http only for hosts the operator allows in \(egress.settingName))")
        }
        do { try await egress.check(host: host) } catch let refused as EgressRefusal {
            throw APIError.badRequest("\(field): \(refused.description)")
        }
        return parts
    }
}
