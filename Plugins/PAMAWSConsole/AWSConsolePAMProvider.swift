import AWSKit
import Core
import Foundation

/// The AWS console as a PAM provider: an account is a target role reached by role chaining from
/// its resource's role; access is a console sign-in URL (web) or the session's keys (cli).
struct AWSConsolePAMProvider: PAMProvider {
    let platform: Platform
    let access: ConsoleAccess
    var resourceType: String { "aws-iam" }
    var accessMethods: [String] { ["web", "cli"] }

    func account(id: String, projectId: String) async throws -> PAMAccountRef? {
        guard let row = try await platform.database.first("SELECT * FROM pam_aws_accounts WHERE id = $1 AND project_id = $2", [.text(id), .text(projectId)]) else {
            return nil
        }
        let account = try PAMRoutes.Account(row: row)
        return PAMAccountRef(id: account.id, resourceId: account.resourceId, projectId: account.projectId, answer: account)
    }

    /// Role chaining starts from the server's own AWS identity.
    func authorize(orgId: String) async throws {
        try await platform.ambientAWS.require(orgId: orgId, tenants: platform.tenants, use: "PAM AWS console access")
    }

    func openAccess(_ request: PAMAccessRequest) async throws -> PAMAccess {
        guard let row = try await platform.database.first("SELECT * FROM pam_aws_accounts WHERE id = $1", [.text(request.account.id)]),
              let resourceRow = try await platform.database.first("SELECT * FROM pam_aws_resources WHERE id = $1 AND project_id = $2",
                                                                  [.text(request.account.resourceId), .text(request.projectId)]) else {
            throw APIError.notFound("account not found")
        }
        let account = try PAMRoutes.Account(row: row)
        let resource = try PAMRoutes.Resource(row: resourceRow)
        let sessionName = ConsoleAccess.sessionName(for: request.email)
        let session = try await access.targetSession(resourceRoleArn: resource.connectionDetails["roleArn"] ?? "", targetRoleArn: account.targetRoleArn,
                                                     projectId: request.projectId, email: request.email, duration: account.defaultSessionDuration)
        // The URL is made before Core records the session, so a failure leaves no session behind.
        let url = request.method == "web"
            ? try await access.consoleURL(session: session.credentials, targetRoleArn: account.targetRoleArn, issuer: request.publicURL) : nil
        let expiresAt = session.credentials.expiration ?? platform.clock.now().addingTimeInterval(TimeInterval(account.defaultSessionDuration))
        let credentials = request.method == "cli" ? ["accessKeyId": session.credentials.accessKeyId, "secretAccessKey": session.credentials.secretAccessKey,
                                                     "sessionToken": session.credentials.sessionToken ?? ""] : nil
        let arnParts = account.targetRoleArn.split(separator: ":", omittingEmptySubsequences: false)
        return PAMAccess(grant: PAMGrant(target: account.targetRoleArn, federatedUsername: sessionName, expiresAt: expiresAt), consoleUrl: url,
                         credentials: credentials,
                         metadata: ["awsAccountId": arnParts.count > 4 ? String(arnParts[4]) : "", "targetRoleArn": account.targetRoleArn,
                                    "federatedUsername": sessionName, "expiresAt": ISO8601Format.string(expiresAt)])
    }
}
