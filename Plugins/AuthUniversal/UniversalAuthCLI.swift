import ArgumentParser
import CLISupport
import Foundation
import Synchronization

/// Universal Auth's CLI: `kms login universal`.
extension AuthUniversalPlugin: PluginCommands {
    public var loginCommands: [any ParsableCommand.Type] { [LoginUniversal.self] }
    public var agentLogins: [any AgentLoginMethod] { [UniversalAgentLogin()] }
}

/// `auth.method: universal-auth` in `kms agent`: `clientIdFile`, `clientSecretFile` (with
/// `removeSecretAfterRead: true`, read once, kept in memory and the file removed).
struct UniversalAgentLogin: AgentLoginMethod {
    static let kept = Mutex<[String: String]>([:])

    static func secret(_ settings: [String: String]) throws -> String {
        let path = settings["clientSecretFile"] ?? ""
        if let held = kept.withLock({ $0[path] }) { return held }
        let secret = try readCredentialFile(path, setting: "clientSecretFile")
        if settings["removeSecretAfterRead"] == "true" {
            kept.withLock { $0[path] = secret }
            unlink(path)
        }
        return secret
    }

    var name: String { "universal-auth" }
    func login(server: String, settings: [String: String]) async throws -> LoginAnswer {
        let clientId = try readCredentialFile(settings["clientIdFile"], setting: "clientIdFile")
        let secret = try Self.secret(settings)
        return try LoginAnswer(answer: try await APIClient(baseURL: server, token: "")
            .call(.POST, "/api/v1/auth/universal-auth/login", body: ["clientId": clientId, "clientSecret": secret]))
    }
}

struct LoginUniversal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "universal",
        abstract: "Log in as a machine identity with a Universal Auth client id and secret.",
        discussion: "The secret may come from KMS_CLIENT_SECRET instead of the flag, to keep it out of the process list.")
    @Option(help: "The client id") var clientId: String
    @Option(help: "The client secret (or KMS_CLIENT_SECRET)") var clientSecret: String?
    @OptionGroup var options: LoginOptions

    func run() async throws {
        guard let secret = clientSecret ?? ProcessInfo.processInfo.environment["KMS_CLIENT_SECRET"] else {
            throw ValidationError("--client-secret or KMS_CLIENT_SECRET is required")
        }
        let answer = try await APIClient(baseURL: options.serverURL, token: "")
            .call(.POST, "/api/v1/auth/universal-auth/login", body: ["clientId": clientId, "clientSecret": secret])
        try options.emitLogin(answer)
    }
}
