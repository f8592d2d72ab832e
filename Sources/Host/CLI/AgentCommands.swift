import Agent
import ArgumentParser
import Foundation

/// `kms agent`: the agent (its code in the Agent target), with the login methods of this
/// build's auth plugins.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent", abstract: "Keep a token and AWS credentials fresh for a workload (see docs/agent.md).",
        discussion: "Runs until SIGTERM/SIGINT, then revokes the leases it made (unless revokeOnExit: false).",
        subcommands: [CredentialProcess.self])

    @Option(help: "The agent's YAML config file") var config: String?
    @Flag(help: "Log in, write every sink, file and template once, and exit") var once = false

    func run() async throws {
        guard let config else { throw ValidationError("--config is required") }
        let agent = try KMSAgent(configPath: config, logins: PluginList.commands.flatMap(\.agentLogins))
        if once { try await agent.once() } else { try await agent.run() }
    }

    struct CredentialProcess: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "credential-process",
                                                        abstract: "Print a running agent's AWS credentials for the AWS `credential_process` setting.")
        @Option(help: "The agent's control socket") var socket: String
        @Option(help: "The awsCredentials name") var name: String

        func run() async throws {
            do {
                print(try await AgentCredentialProcess.fetch(socket: socket, name: name))
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
