import Core
import Foundation

/// The server's configuration: environment variables, optionally preceded by a file of
/// `KEY=VALUE` lines named by `KMS_CONFIG_FILE`; command-line flags override both.
struct KMSConfig: Sendable {
    var host = "127.0.0.1"
    var port = 8080
    var dataDir = "./.kms-data"
    var databaseURL: String?
    var encryptionKey: String?
    var encryptionKeyFile: String?
    var previousEncryptionKeys: [String] = []
    var publicURL: String?
    var trustedProxies: [IPRange] = []
    var logLevel = "info"
    var logFormat = "json"
    /// Organizations (ids or slugs) allowed to act through the server's own AWS identity.
    var ambientAWSOrgs: [String] = []
    /// Audit entries unauthenticated failures may write per source address and minute (each
    /// organization: four times that).
    var auditFailuresPerSource = 5
    /// Every merged `KEY=VALUE` (file, then environment), handed to plugins as their settings.
    var settings: [String: String] = [:]

    /// Reads the configuration from `environment` (and the file it may name).
    static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KMSConfig {
        var values: [String: String] = [:]
        if let file = environment["KMS_CONFIG_FILE"] {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ConfigError("cannot read KMS_CONFIG_FILE \(file)")
            }
            for line in text.split(whereSeparator: \.isNewline) {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard !trimmed.isEmpty, !trimmed.hasPrefix("#"), let eq = trimmed.firstIndex(of: "=") else { continue }
                values[String(trimmed[..<eq]).trimmingCharacters(in: .whitespaces)] =
                    String(trimmed[trimmed.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
            }
        }
        values.merge(environment) { _, env in env }
        var config = KMSConfig()
        config.settings = values
        if let v = values["KMS_HOST"] { config.host = v }
        if let v = values["KMS_PORT"] {
            guard let port = Int(v), (0...65535).contains(port) else { throw ConfigError("KMS_PORT must be a port number") }
            config.port = port
        }
        if let v = values["KMS_DATA_DIR"] { config.dataDir = v }
        config.databaseURL = values["KMS_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        config.encryptionKey = values["KMS_ENCRYPTION_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        config.encryptionKeyFile = values["KMS_ENCRYPTION_KEY_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        config.previousEncryptionKeys = (values["KMS_ENCRYPTION_KEY_PREVIOUS"] ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        config.publicURL = values["KMS_PUBLIC_URL"]
        if let v = values["KMS_TRUSTED_PROXIES"] {
            config.trustedProxies = try v.split(separator: ",").map {
                guard let range = IPRange(String($0)) else { throw ConfigError("KMS_TRUSTED_PROXIES: '\($0)' is not an IP or CIDR") }
                return range
            }
        }
        if let v = values["KMS_AWS_AMBIENT_ORGS"] {
            config.ambientAWSOrgs = v.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if config.ambientAWSOrgs.contains("*") {
                throw ConfigError("KMS_AWS_AMBIENT_ORGS takes organization ids or slugs; there is no wildcard")
            }
        }
        if let v = values["KMS_AUDIT_FAILURES_PER_MINUTE"] {
            guard let n = Int(v), (1...100_000).contains(n) else { throw ConfigError("KMS_AUDIT_FAILURES_PER_MINUTE must be a number from 1 to 100000") }
            config.auditFailuresPerSource = n
        }
        if let v = values["KMS_LOG_LEVEL"] { config.logLevel = v }
        if let v = values["KMS_LOG_FORMAT"] {
            guard ["json", "text"].contains(v) else { throw ConfigError("KMS_LOG_FORMAT must be json or text") }
            config.logFormat = v
        }
        return config
    }

    var usesPostgres: Bool { databaseURL.map { $0.hasPrefix("postgres://") || $0.hasPrefix("postgresql://") } ?? false }

    var effectivePublicURL: String { publicURL ?? "http://\(host):\(port)" }
}

/// A configuration problem, reported before the server starts.
struct ConfigError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
