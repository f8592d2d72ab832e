import ArgumentParser
import CLISupport
import Foundation

/// OIDC Auth's CLI: `kms login oidc`.
extension AuthOIDCPlugin: PluginCommands {
    public var loginCommands: [any ParsableCommand.Type] { [LoginOIDC.self] }
    public var agentLogins: [any AgentLoginMethod] { [OIDCAgentLogin()] }
}

/// `auth.method: oidc` in `kms agent`: `identityId`, `jwtFile` (re-read at every login).
struct OIDCAgentLogin: AgentLoginMethod {
    var name: String { "oidc" }
    func login(server: String, settings: [String: String]) async throws -> LoginAnswer {
        guard let identityId = settings["identityId"], !identityId.isEmpty else { throw ValidationError("auth.identityId is required") }
        let jwt = try readCredentialFile(settings["jwtFile"], setting: "jwtFile")
        return try LoginAnswer(answer: try await APIClient(baseURL: server, token: "")
            .call(.POST, "/api/v1/auth/oidc-auth/login", body: ["identityId": identityId, "jwt": jwt]))
    }
}

struct LoginOIDC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oidc",
        abstract: "Log in as a machine identity with a JWT from an OIDC issuer (a CI job's token, a Kubernetes service-account token).",
        discussion: "The token is read from --jwt-file (re-read at every login, as projected tokens rotate) or from KMS_OIDC_JWT.")
    @Option(help: "The machine identity's id") var identityId: String
    @Option(help: "A file holding the JWT, e.g. /var/run/secrets/kubernetes.io/serviceaccount/token") var jwtFile: String?
    @OptionGroup var options: LoginOptions

    func run() async throws {
        let jwt: String
        if let jwtFile {
            jwt = try String(contentsOfFile: jwtFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let fromEnvironment = ProcessInfo.processInfo.environment["KMS_OIDC_JWT"], !fromEnvironment.isEmpty {
            jwt = fromEnvironment
        } else {
            throw ValidationError("--jwt-file or KMS_OIDC_JWT is required")
        }
        let answer = try await APIClient(baseURL: options.serverURL, token: "")
            .call(.POST, "/api/v1/auth/oidc-auth/login", body: ["identityId": identityId, "jwt": jwt])
        try options.emitLogin(answer)
    }
}
