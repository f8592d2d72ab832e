import AWSKit
import Core
import Foundation

/// AWS Auth's own part of an identity's config, as stored and as the API shows it (Core adds
/// the standard fields).
struct AWSAuthConfig: Encodable, Sendable {
    let type = "iam"
    let stsEndpoint: String
    let allowedPrincipalArns: String
    let allowedAccountIds: String
    /// The required server-ID value; never echoed, only whether one is set.
    let serverIdHeaderValue: String?

    enum CodingKeys: String, CodingKey { case type, stsEndpoint, allowedPrincipalArns, allowedAccountIds, iamServerIdHeaderConfigured }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encode(stsEndpoint, forKey: .stsEndpoint)
        try c.encode(allowedPrincipalArns, forKey: .allowedPrincipalArns)
        try c.encode(allowedAccountIds, forKey: .allowedAccountIds)
        try c.encode(serverIdHeaderValue != nil, forKey: .iamServerIdHeaderConfigured)
    }

    var principalPatterns: [String] { Self.split(allowedPrincipalArns) }
    var accountIds: [String] { Self.split(allowedAccountIds) }

    static func split(_ csv: String) -> [String] {
        csv.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static let defaultSTSEndpoint = "https://sts.amazonaws.com/"
}

/// AWS Auth's own fields of an attach or update body; every field optional (update keeps what
/// is absent; an empty `iamServerIdHeaderValue` removes the requirement).
struct AWSAuthConfigInput: Decodable, Sendable {
    let stsEndpoint: String?
    let allowedPrincipalArns: String?
    let allowedAccountIds: String?
    let iamServerIdHeaderValue: String?

    /// The config this input makes over `current` (nil on attach), validated.
    func applied(over current: AWSAuthConfig?) throws -> AWSAuthConfig {
        let config = AWSAuthConfig(stsEndpoint: stsEndpoint ?? current?.stsEndpoint ?? AWSAuthConfig.defaultSTSEndpoint,
                                   allowedPrincipalArns: allowedPrincipalArns ?? current?.allowedPrincipalArns ?? "",
                                   allowedAccountIds: allowedAccountIds ?? current?.allowedAccountIds ?? "",
                                   serverIdHeaderValue: iamServerIdHeaderValue.map { $0.isEmpty ? nil : $0 } ?? current?.serverIdHeaderValue)
        try Self.validate(principals: config.allowedPrincipalArns, accounts: config.allowedAccountIds, stsEndpoint: config.stsEndpoint,
                          serverId: config.serverIdHeaderValue)
        return config
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
        for account in AWSAuthConfig.split(accounts) where !PrincipalMatcher.isAccount(account) {
            throw APIError.badRequest("allowedAccountIds: '\(account)' is not a 12-digit AWS account id")
        }
        if let problem = bindingProblem(principals: AWSAuthConfig.split(principals), accounts: AWSAuthConfig.split(accounts)) {
            throw APIError.badRequest(problem)
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
