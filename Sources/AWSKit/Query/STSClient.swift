import Foundation

/// The caller identity STS reports.
public struct CallerIdentity: Sendable, Equatable {
    public let account: String
    public let arn: String
    public let userId: String

    public init(account: String, arn: String, userId: String) {
        self.account = account
        self.arn = arn
        self.userId = userId
    }
}

/// Temporary credentials from an AssumeRole-style call.
public struct AssumedRole: Sendable, Equatable {
    public let credentials: AWSCredentials
    public let assumedRoleArn: String
    public let assumedRoleId: String
}

/// STS operations over the Query client.
public struct STSClient: Sendable {
    public let query: AWSQueryClient
    public let region: String
    public let credentials: any AWSCredentialProvider

    public init(query: AWSQueryClient, region: String, credentials: any AWSCredentialProvider) {
        self.query = query
        self.region = region
        self.credentials = credentials
    }

    public func getCallerIdentity() async throws -> CallerIdentity {
        let r = try await query.call(.sts, "GetCallerIdentity", region: region, credentials: try await credentials.credentials())
        guard let account = r.value("Account"), let arn = r.value("Arn"), let userId = r.value("UserId") else {
            throw AWSError.invalidResponse("GetCallerIdentity result is incomplete")
        }
        return CallerIdentity(account: account, arn: arn, userId: userId)
    }

    public func assumeRole(roleArn: String, sessionName: String, externalId: String? = nil, durationSeconds: Int? = nil,
                           policy: String? = nil, policyArns: [String] = [], tags: [(String, String)] = [],
                           sourceIdentity: String? = nil) async throws -> AssumedRole {
        var params: [(String, String)] = [("RoleArn", roleArn), ("RoleSessionName", sessionName)]
        if let sourceIdentity { params.append(("SourceIdentity", sourceIdentity)) }
        if let externalId { params.append(("ExternalId", externalId)) }
        if let durationSeconds { params.append(("DurationSeconds", String(durationSeconds))) }
        if let policy { params.append(("Policy", policy)) }
        for (i, arn) in policyArns.enumerated() { params.append(("PolicyArns.member.\(i + 1).arn", arn)) }
        params += IAMClient.tagParameters(tags)
        let r = try await query.call(.sts, "AssumeRole", params, region: region, credentials: try await credentials.credentials())
        return try Self.assumed(r)
    }

    /// AssumeRoleWithWebIdentity is sent unsigned: the web identity token is the proof.
    public func assumeRoleWithWebIdentity(roleArn: String, sessionName: String, webIdentityToken: String,
                                          durationSeconds: Int? = nil) async throws -> AssumedRole {
        var params: [(String, String)] = [("RoleArn", roleArn), ("RoleSessionName", sessionName), ("WebIdentityToken", webIdentityToken)]
        if let durationSeconds { params.append(("DurationSeconds", String(durationSeconds))) }
        let r = try await query.call(.sts, "AssumeRoleWithWebIdentity", params, region: region, credentials: nil)
        return try Self.assumed(r)
    }

    public func getSessionToken(durationSeconds: Int? = nil) async throws -> AWSCredentials {
        let params = durationSeconds.map { [("DurationSeconds", String($0))] } ?? []
        let r = try await query.call(.sts, "GetSessionToken", params, region: region, credentials: try await credentials.credentials())
        return try Self.credentials(r.child("Credentials"))
    }

    static func assumed(_ r: XMLNode) throws -> AssumedRole {
        AssumedRole(credentials: try credentials(r.child("Credentials")), assumedRoleArn: r.value("AssumedRoleUser", "Arn") ?? "",
                    assumedRoleId: r.value("AssumedRoleUser", "AssumedRoleId") ?? "")
    }

    static func credentials(_ node: XMLNode?) throws -> AWSCredentials {
        guard let node, let id = node.value("AccessKeyId"), let secret = node.value("SecretAccessKey") else {
            throw AWSError.invalidResponse("response carries no credentials")
        }
        return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: node.value("SessionToken"),
                              expiration: node.value("Expiration").flatMap(parseISO8601))
    }
}

/// Parses AWS's ISO-8601 timestamps, with or without fractional seconds.
public func parseISO8601(_ text: String) -> Date? {
    (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
}
