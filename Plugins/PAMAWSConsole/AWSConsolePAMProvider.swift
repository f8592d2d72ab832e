import AWSKit
import Core
import Foundation

/// The AWS console as a PAM provider: a resource is an entry role the server assumes (ExternalId
/// = project id), an account a target role reached from it by role chaining; access is a
/// console sign-in URL (web) or the session's keys (cli).
struct AWSConsolePAMProvider: PAMProvider {
    let platform: Platform
    let access: ConsoleAccess
    var resourceType: String { "aws-iam" }
    var accessMethods: [String] { ["web", "cli"] }

    /// Role chaining starts from the server's own AWS identity.
    func authorize(orgId: String) async throws {
        try await platform.ambientAWS.require(orgId: orgId, tenants: platform.tenants, use: "PAM AWS console access")
    }

    /// `{roleArn}`: a role the server can assume with ExternalId = the project's id, checked now.
    func validateResource(_ connectionDetails: [String: JSONValue], project: Project) async throws -> [String: String] {
        guard let roleArn = connectionDetails["roleArn"]?.string else { throw APIError.badRequest("connectionDetails.roleArn is required") }
        try Self.checkRoleArn(roleArn, field: "connectionDetails.roleArn")
        try await access.validateResource(roleArn: roleArn, projectId: project.id)
        return ["roleArn": roleArn]
    }

    /// `{targetRoleArn, defaultSessionDuration}`: 900 to 3600 seconds (or `"15m"`..`"1h"`), default 1 hour.
    func validateAccount(_ credentials: [String: JSONValue], resource: PAMResource) async throws -> PAMAccountSettings {
        guard let target = credentials["targetRoleArn"]?.string else { throw APIError.badRequest("credentials.targetRoleArn is required") }
        try Self.checkRoleArn(target, field: "credentials.targetRoleArn")
        let duration = try DurationParser.seconds(credentials["defaultSessionDuration"], field: "defaultSessionDuration") ?? 3600
        guard (900...3600).contains(duration) else { throw APIError.badRequest("defaultSessionDuration must be between 15 minutes and 1 hour (900-3600 s)") }
        return PAMAccountSettings(details: ["targetRoleArn": target], sessionDuration: duration,
                                  warnings: await revocationWarnings(target: target, resource: resource))
    }

    /// Whether the resource role can manage the target role's revocation policy: a revoked
    /// session could not be ended otherwise. Checked by reading the policy (write access is
    /// granted alongside in the documented policy); any refusal is a warning, not an error.
    func revocationWarnings(target: String, resource: PAMResource) async -> [String] {
        do {
            let iam = try await access.iam(resourceRoleArn: resource.connectionDetails["roleArn"] ?? "", projectId: resource.projectId)
            _ = try await iam.getRolePolicy(role: Self.roleName(target), name: RevocationPolicy.name)
            return []
        } catch {
            return ["the resource role cannot manage \(RevocationPolicy.name) on \(target) (it needs iam:GetRolePolicy, iam:PutRolePolicy and iam:DeleteRolePolicy): "
                    + "revoking a session would fail (\((error as? APIError)?.message ?? "\(error)"))"]
        }
    }

    static func roleName(_ arn: String) -> String { String(arn.split(separator: "/").last ?? "") }

    /// Writes (or, with nothing revoked, deletes) the target role's `kms-pam-revocations`.
    func applyRevocations(_ revocations: [PAMRevocation], target: String, resource: PAMResource) async throws {
        let iam = try await access.iam(resourceRoleArn: resource.connectionDetails["roleArn"] ?? "", projectId: resource.projectId)
        do {
            if let document = RevocationPolicy.document(revocations) {
                try await iam.putRolePolicy(role: Self.roleName(target), name: RevocationPolicy.name, document: document)
            } else {
                try await iam.deleteRolePolicy(role: Self.roleName(target), name: RevocationPolicy.name)
            }
        } catch {
            throw ConsoleAccess.mapped(error, doing: "write \(RevocationPolicy.name) on \(target)")
        }
    }

    static func checkRoleArn(_ arn: String, field: String) throws {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        let name = parts.count == 6 ? parts[5].dropFirst(5) : ""
        guard parts.count == 6, parts[0] == "arn", ["aws", "aws-us-gov", "aws-cn"].contains(parts[1]), parts[2] == "iam", parts[4].count == 12,
              parts[4].allSatisfy(\.isNumber), parts[5].hasPrefix("role/"), !name.isEmpty, name.count <= 512,
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+=,.@-_/".contains($0)) }) else {
            throw APIError.badRequest("\(field) must be an IAM role ARN such as arn:aws:iam::123456789012:role/name")
        }
    }

    func openAccess(_ request: PAMAccessRequest) async throws -> PAMAccess {
        let targetRoleArn = request.account.details["targetRoleArn"] ?? ""
        // AWS issues at least 15 minutes; a shorter grant is ended by its revocation.
        let duration = max(900, min(request.account.sessionDuration, request.maxDuration ?? .max))
        let sessionName = ConsoleAccess.sessionName(for: request.email)
        let session = try await access.targetSession(resourceRoleArn: request.resource.connectionDetails["roleArn"] ?? "", targetRoleArn: targetRoleArn,
                                                     projectId: request.projectId, email: request.email, duration: duration)
        // The URL is made before Core records the session, so a failure leaves no session behind.
        let url = request.method == "web"
            ? try await access.consoleURL(session: session.credentials, targetRoleArn: targetRoleArn, issuer: request.publicURL) : nil
        let expiresAt = session.credentials.expiration ?? platform.clock.now().addingTimeInterval(TimeInterval(duration))
        let credentials = request.method == "cli" ? ["accessKeyId": session.credentials.accessKeyId, "secretAccessKey": session.credentials.secretAccessKey,
                                                     "sessionToken": session.credentials.sessionToken ?? ""] : nil
        let arnParts = targetRoleArn.split(separator: ":", omittingEmptySubsequences: false)
        return PAMAccess(grant: PAMGrant(target: targetRoleArn, federatedUsername: sessionName, expiresAt: expiresAt,
                                         sourceIdentity: ConsoleAccess.sourceIdentity(for: request.email)), consoleUrl: url,
                         credentials: credentials,
                         metadata: ["awsAccountId": arnParts.count > 4 ? String(arnParts[4]) : "", "targetRoleArn": targetRoleArn,
                                    "federatedUsername": sessionName, "expiresAt": ISO8601Format.string(expiresAt)])
    }
}
