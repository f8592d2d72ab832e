import ArgumentParser
import Foundation
import Yams

/// The agent's config file (../shared/agent.md): YAML, `${VAR}` expanded from the environment.
struct AgentConfig: Decodable, Sendable {
    struct Sink: Decodable, Sendable { let path: String }
    struct Endpoint: Decodable, Sendable { let listen: String; let authTokenFile: String }
    struct AWSEntry: Decodable, Sendable {
        let name: String
        let projectSlug: String
        let environmentSlug: String
        let path: String?
        let dynamicSecret: String
        let ttl: String?
        let leadTime: String?
        let verify: Bool?
        let endpoint: Endpoint?
        let credentialsFile: String?
    }
    struct Template: Decodable, Sendable { let source: String; let destination: String; let command: String?; let mode: String? }

    var server: String?
    let auth: [String: String]
    let tokenSinks: [Sink]?
    let renewAt: Double?
    let controlSocket: String?
    let awsCredentials: [AWSEntry]?
    let templates: [Template]?
    let revokeOnExit: Bool?

    /// Reads and checks a config file.
    static func load(_ path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AgentConfig {
        let raw = try String(contentsOfFile: path, encoding: .utf8)
        var config = try YAMLDecoder().decode(AgentConfig.self, from: try expand(raw, environment: environment))
        if config.server == nil { config.server = environment["KMS_SERVER_URL"] }
        try config.check()
        return config
    }

    /// `${VAR}` replaced from the environment; an unset variable is an error, not an empty value.
    static func expand(_ text: String, environment: [String: String]) throws -> String {
        var out = "", rest = Substring(text)
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { throw ValidationError("config: unclosed ${") }
            let name = String(rest[start.upperBound..<end])
            guard let value = environment[name] else { throw ValidationError("config: ${\(name)} is not set in the environment") }
            out += value
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }

    func check() throws {
        guard let server, !server.isEmpty else { throw ValidationError("config: server (or KMS_SERVER_URL) is required") }
        guard auth["method"]?.isEmpty == false else { throw ValidationError("config: auth.method is required") }
        if let renewAt, !(0.1...0.95).contains(renewAt) { throw ValidationError("config: renewAt must be between 0.1 and 0.95") }
        var names = Set<String>()
        for entry in awsCredentials ?? [] {
            guard !entry.name.isEmpty, entry.name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }), names.insert(entry.name).inserted else {
                throw ValidationError("config: awsCredentials name '\(entry.name)' must be unique and [a-z0-9-]+")
            }
            let ttl = try Self.seconds(entry.ttl, default: 3600), lead = try Self.seconds(entry.leadTime, default: 300)
            guard lead < ttl else { throw ValidationError("config: awsCredentials \(entry.name): leadTime must be shorter than ttl") }
        }
    }

    /// `90`, `30s`, `5m`, `1h`.
    static func seconds(_ text: String?, default value: Int) throws -> Int {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return value }
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let unit = text.last, let factor = units[unit], let n = Int(text.dropLast()), n > 0 { return n * factor }
        if let n = Int(text), n > 0 { return n }
        throw ValidationError("config: '\(text)' is not a duration (90, 30s, 5m, 1h)")
    }
}
