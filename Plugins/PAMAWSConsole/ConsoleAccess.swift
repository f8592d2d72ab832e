import AWSKit
import Core
import Crypto
import Foundation

/// Role chaining for console access: the server assumes the resource role (ExternalId =
/// project id), then the target role with the person's e-mail as session name, then trades the
/// session for a console sign-in URL (or hands back the credentials).
struct ConsoleAccess: Sendable {
    let query: AWSQueryClient
    let serverCredentials: any AWSCredentialProvider
    let federation: ConsoleFederation

    /// The RoleSessionName for an e-mail: `[\w+=,.@-]` only, at most 64 characters; a longer
    /// name keeps a prefix and a hash of the whole, so distinct e-mails stay distinct.
    static func sessionName(for email: String) -> String {
        let allowed = email.map { ch -> Character in
            ch.isASCII && (ch.isLetter || ch.isNumber || "_+=,.@-".contains(ch)) ? ch : "-"
        }
        let clean = String(allowed)
        guard clean.count > 64 else { return clean.count >= 2 ? clean : clean + "--" }
        let digest = SHA256.hash(data: Data(email.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
        return String(clean.prefix(51)) + "-" + digest
    }

    static func region(of roleArn: String) -> String {
        switch roleArn.split(separator: ":").dropFirst().first {
        case "aws-us-gov": "us-gov-west-1"
        case "aws-cn": "cn-north-1"
        default: "us-east-1"
        }
    }

    /// Assumes the resource role as a validation of the trust policy and external id.
    func validateResource(roleArn: String, projectId: String) async throws {
        let sts = STSClient(query: query, region: Self.region(of: roleArn), credentials: serverCredentials)
        do {
            _ = try await sts.assumeRole(roleArn: roleArn, sessionName: "kms-validate", externalId: projectId, durationSeconds: 900)
        } catch {
            throw Self.mapped(error, doing: "assume the resource role \(roleArn) with ExternalId = the project id (check its trust policy)")
        }
    }

    /// The `SourceIdentity` of a person: `kms-` and the e-mail in IAM's 2-64 characters
    /// `[\w+=,.@-]` (a long one keeps a prefix and a hash). It survives role chaining, shows in
    /// CloudTrail, and is what a revocation denies.
    static func sourceIdentity(for email: String) -> String {
        let exact = email.lowercased()
        let clean = String(exact.map { ch -> Character in ch.isASCII && (ch.isLetter || ch.isNumber || "_+=,.@-".contains(ch)) ? ch : "-" })
        // Distinct people must never share an identity (one's revocation would end the other's
        // access): whenever a character was replaced or the name shortened, a hash of the exact
        // e-mail makes it unique.
        if clean == exact, clean.count <= 60 { return "kms-" + clean }
        let digest = SHA256.hash(data: Data(exact.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
        return "kms-" + String(clean.prefix(47)) + "-" + digest
    }

    /// The resource role's session, from which target roles are reached and written.
    func resourceSession(resourceRoleArn: String, projectId: String) async throws -> AssumedRole {
        do {
            return try await STSClient(query: query, region: Self.region(of: resourceRoleArn), credentials: serverCredentials)
                .assumeRole(roleArn: resourceRoleArn, sessionName: "kms-pam", externalId: projectId, durationSeconds: 900)
        } catch {
            throw Self.mapped(error, doing: "assume the resource role")
        }
    }

    /// The chained target-role session, carrying the person's source identity.
    func targetSession(resourceRoleArn: String, targetRoleArn: String, projectId: String, email: String, duration: Int) async throws -> AssumedRole {
        let resource = try await resourceSession(resourceRoleArn: resourceRoleArn, projectId: projectId)
        do {
            return try await STSClient(query: query, region: Self.region(of: resourceRoleArn), credentials: StaticCredentialProvider(resource.credentials))
                .assumeRole(roleArn: targetRoleArn, sessionName: Self.sessionName(for: email), durationSeconds: duration,
                            sourceIdentity: Self.sourceIdentity(for: email))
        } catch {
            throw Self.mapped(error, doing: "assume the target role \(targetRoleArn) from the resource role (its trust policy must allow sts:SetSourceIdentity)")
        }
    }

    /// IAM as the resource role (which manages the target roles' revocation policy).
    func iam(resourceRoleArn: String, projectId: String) async throws -> IAMClient {
        let resource = try await resourceSession(resourceRoleArn: resourceRoleArn, projectId: projectId)
        return IAMClient(query: query, region: Self.region(of: resourceRoleArn), credentials: StaticCredentialProvider(resource.credentials))
    }

    func consoleURL(session: AWSCredentials, targetRoleArn: String, issuer: String) async throws -> String {
        let partition = AWSPartition.of(region: Self.region(of: targetRoleArn))
        let token: String
        do {
            token = try await federation.signinToken(credentials: session, partition: partition)
        } catch {
            throw APIError.badGateway("the AWS console federation endpoint failed: \(error)")
        }
        return federation.loginURL(signinToken: token, issuer: issuer, destination: partition.consoleURL, partition: partition)
    }

    static func mapped(_ error: any Error, doing what: String) -> any Error {
        guard let aws = error as? AWSError else { return error }
        if case .service(let code, let message, _, let status) = aws, (400..<500).contains(status), !aws.isRetryable {
            return APIError.badRequest("AWS refused to \(what): \(code): \(message)")
        }
        if case .credentials(let m) = aws { return APIError.badRequest("the server has no AWS credentials to \(what): \(m)") }
        return APIError.badGateway("AWS failed to \(what): \(aws)")
    }
}
