import Foundation

/// IRSA and other web identity federation: `AWS_ROLE_ARN` plus `AWS_WEB_IDENTITY_TOKEN_FILE`,
/// exchanged through STS AssumeRoleWithWebIdentity. The token file is re-read on every call,
/// since the platform rotates it.
public struct WebIdentityCredentialProvider: ChainableCredentialProvider {
    let roleArn: String?
    let tokenFile: String?
    let sessionName: String
    let query: AWSQueryClient
    let region: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, query: AWSQueryClient, region: String) {
        roleArn = environment["AWS_ROLE_ARN"].flatMap { $0.isEmpty ? nil : $0 }
        tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        sessionName = environment["AWS_ROLE_SESSION_NAME"] ?? "kms-\(Int(Date().timeIntervalSince1970))"
        self.query = query
        self.region = region
    }

    public init(roleArn: String, tokenFile: String, sessionName: String, query: AWSQueryClient, region: String) {
        self.roleArn = roleArn
        self.tokenFile = tokenFile
        self.sessionName = sessionName
        self.query = query
        self.region = region
    }

    public func resolve() async throws -> AWSCredentials? {
        guard let roleArn, let tokenFile else { return nil }
        guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw AWSError.credentials("cannot read the web identity token file \(tokenFile)")
        }
        let sts = STSClient(query: query, region: region, credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: "", secretAccessKey: "")))
        return try await sts.assumeRoleWithWebIdentity(roleArn: roleArn, sessionName: sessionName, webIdentityToken: token).credentials
    }
}
