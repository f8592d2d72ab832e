import AWSKit
import Core
import Foundation

/// An identity's AWS Auth configuration as the API shows it.
struct AWSAuthConfig: Encodable, Sendable {
    let id: String
    let identityId: String
    let orgId: String
    let type = "iam"
    let stsEndpoint: String
    let allowedPrincipalArns: String
    let allowedAccountIds: String
    let accessTokenTTL: Int
    let accessTokenMaxTTL: Int
    let accessTokenNumUsesLimit: Int
    let accessTokenTrustedIps: [AccessTokenSettings.TrustedIP]
    /// Whether a server-ID header is required; the value itself is not echoed.
    let iamServerIdHeaderConfigured: Bool
    let createdAt: Date
    let updatedAt: Date
    let serverIdHeaderValue: String?

    enum CodingKeys: String, CodingKey {
        case id, identityId, type, stsEndpoint, allowedPrincipalArns, allowedAccountIds, accessTokenTTL, accessTokenMaxTTL
        case accessTokenNumUsesLimit, accessTokenTrustedIps, iamServerIdHeaderConfigured, createdAt, updatedAt
    }

    var settings: AccessTokenSettings {
        AccessTokenSettings(ttl: accessTokenTTL, maxTTL: accessTokenMaxTTL, numUsesLimit: accessTokenNumUsesLimit,
                            trustedIPs: accessTokenTrustedIps.compactMap { IPRange($0.ipAddress) })
    }

    var principalPatterns: [String] { Self.split(allowedPrincipalArns) }
    var accountIds: [String] { Self.split(allowedAccountIds) }

    static func split(_ csv: String) -> [String] {
        csv.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    init(row: DBRow) throws {
        id = try row.string("id")
        identityId = try row.string("identity_id")
        orgId = try row.string("org_id")
        stsEndpoint = try row.string("sts_endpoint")
        allowedPrincipalArns = try row.string("allowed_principal_arns")
        allowedAccountIds = try row.string("allowed_account_ids")
        accessTokenTTL = Int(try row.int("ttl"))
        accessTokenMaxTTL = Int(try row.int("max_ttl"))
        accessTokenNumUsesLimit = Int(try row.int("num_uses_limit"))
        accessTokenTrustedIps = AccessTokenSettings.trustedIPs(fromJSON: try row.string("trusted_ips")).map { .init(ipAddress: $0.description) }
        serverIdHeaderValue = try row.optionalString("server_id_header")
        iamServerIdHeaderConfigured = serverIdHeaderValue != nil
        createdAt = try row.date("created_at")
        updatedAt = try row.date("updated_at")
    }
}

/// The body of attach and update; every field optional (update keeps what is absent).
struct AWSAuthConfigInput: Decodable, Sendable {
    let stsEndpoint: String?
    let allowedPrincipalArns: String?
    let allowedAccountIds: String?
    let iamServerIdHeaderValue: String?
    let accessTokenTTL: Int?
    let accessTokenMaxTTL: Int?
    let accessTokenNumUsesLimit: Int?
    let accessTokenTrustedIps: [AccessTokenSettings.TrustedIP]?

    var tokenInput: AccessTokenSettings.Input {
        AccessTokenSettings.Input(accessTokenTTL: accessTokenTTL, accessTokenMaxTTL: accessTokenMaxTTL,
                                  accessTokenNumUsesLimit: accessTokenNumUsesLimit, accessTokenTrustedIps: accessTokenTrustedIps)
    }

    /// Like Vault, never bind nothing: without an account list, every principal pattern must name
    /// its account, or any AWS principal in the world could log in.
    static func bindingProblem(principals: [String], accounts: [String]) -> String? {
        guard accounts.isEmpty else { return nil }
        if principals.isEmpty {
            return "set allowedPrincipalArns or allowedAccountIds (or both): without them any AWS principal could log in"
        }
        if let open = principals.first(where: { $0.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).dropFirst(4).first.map { $0.contains("*") || $0.contains("?") } ?? true }) {
            return "allowedPrincipalArns: '\(open)' leaves the account open; name the account or set allowedAccountIds"
        }
        return nil
    }

    /// Validates the principal and account lists and the STS endpoint.
    static func validate(principals: String, accounts: String, stsEndpoint: String, serverId: String?) throws {
        for pattern in AWSAuthConfig.split(principals) {
            if let problem = PrincipalMatcher.problem(with: pattern) { throw APIError.badRequest("allowedPrincipalArns: '\(pattern)' \(problem)") }
        }
        if let problem = bindingProblem(principals: AWSAuthConfig.split(principals), accounts: AWSAuthConfig.split(accounts)) {
            throw APIError.badRequest(problem)
        }
        for account in AWSAuthConfig.split(accounts) where !PrincipalMatcher.isAccount(account) {
            throw APIError.badRequest("allowedAccountIds: '\(account)' is not a 12-digit AWS account id")
        }
        guard let url = URLComponents(string: stsEndpoint), url.scheme == "https", let host = url.host, url.query == nil,
              AWSEndpointResolver.isRealSTSHost(host) != nil else {
            throw APIError.badRequest("stsEndpoint must be an https AWS STS endpoint such as https://sts.amazonaws.com/")
        }
        if let serverId {
            guard (1...256).contains(serverId.count), serverId.allSatisfy({ $0.isASCII && !$0.isNewline }) else {
                throw APIError.badRequest("iamServerIdHeaderValue must be 1-256 printable ASCII characters")
            }
        }
    }
}
