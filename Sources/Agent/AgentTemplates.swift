import Foundation
import Logging
import Mustache

/// Renders the config's Mustache templates with `{token, aws: {NAME: {AccessKeyId,
/// SecretAccessKey, SessionToken, Expiration}}}`; a destination is written (atomically, 0600
/// unless `mode` says otherwise) and its command run only when the text changed.
actor AgentTemplates {
    let templates: [(config: AgentConfig.Template, template: MustacheTemplate)]
    let logger: Logger
    private var rendered: [String: String] = [:]
    private var lastVersion = 0

    init(_ configs: [AgentConfig.Template], logger: Logger) throws {
        templates = try configs.map { config in
            _ = try Self.mode(config.mode)
            let source = try String(contentsOfFile: config.source, encoding: .utf8)
            do { return (config, try MustacheTemplate(string: source)) } catch {
                throw AgentError("template \(config.source) does not parse: \(error)")
            }
        }
        self.logger = logger
    }

    func render(version: Int, token: String?, aws: [String: AWSCredentialKeeper.Held], waitForCommands: Bool) throws {
        guard version > lastVersion else { return }
        lastVersion = version
        var awsData: [String: Any] = [:]
        for (name, held) in aws {
            awsData[name] = ["AccessKeyId": held.accessKeyId, "SecretAccessKey": held.secretAccessKey, "SessionToken": held.sessionToken ?? "",
                             "Expiration": ISO8601DateFormatter().string(from: held.expiresAt)]
        }
        let data: [String: Any] = ["token": token ?? "", "aws": awsData]
        for (config, template) in templates {
            let text = template.render(data)
            guard rendered[config.destination] != text else { continue }
            let mode = try Self.mode(config.mode)
            try FileSink.write(text, to: config.destination, mode: mode)
            rendered[config.destination] = text
            logger.info("template rendered", metadata: ["destination": "\(config.destination)"])
            if let command = config.command { try run(command, wait: waitForCommands) }
        }
    }

    /// An octal mode of at most 0o777 (no setuid, setgid or sticky bits); 0600 when unset.
    static func mode(_ text: String?) throws -> mode_t {
        guard let text else { return 0o600 }
        guard let mode = mode_t(text.hasPrefix("0o") ? String(text.dropFirst(2)) : text, radix: 8), mode <= 0o777 else {
            throw AgentError("template mode '\(text)' must be an octal mode such as 0640")
        }
        return mode
    }

    /// Runs a template's command without holding up the agent (its exit is logged); with
    /// `wait` (`--once`), a failure is an error.
    private func run(_ command: String, wait: Bool) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let logger = self.logger
        if !wait {
            process.terminationHandler = { p in
                if p.terminationStatus != 0 { logger.warning("template command failed", metadata: ["status": "\(p.terminationStatus)"]) }
            }
        }
        do { try process.run() } catch { throw AgentError("template command could not start: \(error)") }
        if wait {
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw AgentError("template command exited with \(process.terminationStatus)") }
        }
    }
}
