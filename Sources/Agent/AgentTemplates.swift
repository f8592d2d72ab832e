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

    init(_ configs: [AgentConfig.Template], logger: Logger) throws {
        templates = try configs.map { config in
            let source = try String(contentsOfFile: config.source, encoding: .utf8)
            do { return (config, try MustacheTemplate(string: source)) } catch {
                throw AgentError("template \(config.source) does not parse: \(error)")
            }
        }
        self.logger = logger
    }

    func render(token: String?, aws: [String: AWSCredentialKeeper.Held]) throws {
        var awsData: [String: Any] = [:]
        for (name, held) in aws {
            awsData[name] = ["AccessKeyId": held.accessKeyId, "SecretAccessKey": held.secretAccessKey, "SessionToken": held.sessionToken ?? "",
                             "Expiration": ISO8601DateFormatter().string(from: held.expiresAt)]
        }
        let data: [String: Any] = ["token": token ?? "", "aws": awsData]
        for (config, template) in templates {
            let text = template.render(data)
            guard rendered[config.destination] != text else { continue }
            let mode = config.mode.flatMap { mode_t($0, radix: 8) } ?? 0o600
            try FileSink.write(text, to: config.destination, mode: mode)
            rendered[config.destination] = text
            logger.info("template rendered", metadata: ["destination": "\(config.destination)"])
            if let command = config.command { run(command) }
        }
    }

    private func run(_ command: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        do {
            try process.run()
            process.waitUntilExit()
            if process.terminationStatus != 0 { logger.warning("template command failed", metadata: ["status": "\(process.terminationStatus)"]) }
        } catch {
            logger.warning("template command could not start", metadata: ["error": "\(error)"])
        }
    }
}
