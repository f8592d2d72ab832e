import Foundation

/// The shared `credentials` and `config` files: static keys, or `role_arn` with a
/// `source_profile` (assumed through STS, chains followed, loops refused).
public struct ProfileCredentialProvider: ChainableCredentialProvider {
    let profile: String
    let credentialsFile: String
    let configFile: String
    let query: AWSQueryClient

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, query: AWSQueryClient) {
        let home = environment["HOME"] ?? NSHomeDirectory()
        profile = environment["AWS_PROFILE"] ?? "default"
        credentialsFile = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "\(home)/.aws/credentials"
        configFile = environment["AWS_CONFIG_FILE"] ?? "\(home)/.aws/config"
        self.query = query
    }

    /// Parses an INI file into sections of lower-cased keys.
    static func parseINI(_ text: String, isConfig: Bool) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                var name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                if isConfig, name.hasPrefix("profile ") { name = String(name.dropFirst(8)).trimmingCharacters(in: .whitespaces) }
                current = name
                sections[name, default: [:]] = sections[name] ?? [:]
                continue
            }
            guard let current, let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            sections[current, default: [:]][key] = value
        }
        return sections
    }

    /// Every profile, the credentials file's keys winning over the config file's.
    func profiles() -> [String: [String: String]] {
        let config = (try? String(contentsOfFile: configFile, encoding: .utf8)).map { Self.parseINI($0, isConfig: true) } ?? [:]
        let creds = (try? String(contentsOfFile: credentialsFile, encoding: .utf8)).map { Self.parseINI($0, isConfig: false) } ?? [:]
        return config.merging(creds) { a, b in a.merging(b) { _, c in c } }
    }

    /// The region the selected profile names, if any.
    public func region() -> String? { profiles()[profile]?["region"] }

    public func resolve() async throws -> AWSCredentials? {
        let all = profiles()
        guard all[profile] != nil else { return nil }
        return try await credentials(for: profile, in: all, visited: [])
    }

    private func credentials(for name: String, in all: [String: [String: String]], visited: Set<String>) async throws -> AWSCredentials {
        guard let p = all[name] else { throw AWSError.credentials("profile \(name) does not exist") }
        guard !visited.contains(name) else { throw AWSError.credentials("profile \(name) is part of a source_profile loop") }
        if let roleArn = p["role_arn"] {
            let source: AWSCredentials
            if let sourceName = p["source_profile"] {
                // A profile that is its own source uses its static keys to assume its role.
                if sourceName == name, let id = p["aws_access_key_id"], let secret = p["aws_secret_access_key"] {
                    source = AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: p["aws_session_token"])
                } else {
                    source = try await credentials(for: sourceName, in: all, visited: visited.union([name]))
                }
            } else {
                throw AWSError.credentials("profile \(name) has role_arn but no source_profile")
            }
            let region = p["region"] ?? all[p["source_profile"] ?? ""]?["region"] ?? "us-east-1"
            let sts = STSClient(query: query, region: region, credentials: StaticCredentialProvider(source))
            return try await sts.assumeRole(roleArn: roleArn, sessionName: p["role_session_name"] ?? "kms-profile-\(Int(Date().timeIntervalSince1970))",
                                            externalId: p["external_id"], durationSeconds: p["duration_seconds"].flatMap(Int.init)).credentials
        }
        guard let id = p["aws_access_key_id"], let secret = p["aws_secret_access_key"] else {
            throw AWSError.credentials("profile \(name) has no aws_access_key_id/aws_secret_access_key")
        }
        return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: p["aws_session_token"])
    }
}
