import Core
import Foundation

/// AWS Auth as an identity auth provider: its config and its columns. Core serves the config
/// routes, stores the standard columns and issues tokens.
struct AWSAuthProvider: IdentityAuthProvider {
    var method: String { "aws-auth" }
    var configTable: String { "aws_auth_configs" }
    var responseKey: String { "identityAwsAuth" }
    var displayName: String { "AWS Auth" }
    /// A signature STS rejects can come from anyone; only verified callers count.
    var countsRejectedCredentials: Bool { false }

    func config(from row: DBRow) throws -> AWSAuthConfig {
        AWSAuthConfig(stsEndpoint: try row.string("sts_endpoint"), allowedPrincipalArns: try row.string("allowed_principal_arns"),
                      allowedAccountIds: try row.string("allowed_account_ids"), serverIdHeaderValue: try row.optionalString("server_id_header"))
    }

    func columns(of config: AWSAuthConfig) -> [(String, DBValue)] {
        [("sts_endpoint", .text(config.stsEndpoint)), ("allowed_principal_arns", .text(config.allowedPrincipalArns)),
         ("allowed_account_ids", .text(config.allowedAccountIds)), ("server_id_header", DBValue(config.serverIdHeaderValue))]
    }

    func config(from input: AWSAuthConfigInput, current: AWSAuthConfig?) throws -> AWSAuthConfig {
        try input.applied(over: current)
    }

    func auditMetadata(of config: AWSAuthConfig) -> [String: String] {
        ["allowedPrincipalArns": config.allowedPrincipalArns, "allowedAccountIds": config.allowedAccountIds]
    }
}
