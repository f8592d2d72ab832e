import ArgumentParser
import CLISupport
import Foundation

/// OIDC Auth's CLI: `kms login oidc`.
extension AuthOIDCPlugin: PluginCommands {
    public var loginCommands: [any ParsableCommand.Type] { [LoginOIDC.self] }
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
