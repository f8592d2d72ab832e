import ArgumentParser
import CLISupport
import Foundation

/// LDAP Auth's CLI: `kms login ldap`.
extension AuthLDAPPlugin: PluginCommands {
    public var loginCommands: [any ParsableCommand.Type] { [LoginLDAP.self] }
}

struct LoginLDAP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ldap",
        abstract: "Log in as a machine identity with an LDAP user name and password.",
        discussion: "The password is read from KMS_LDAP_PASSWORD or, with --password-stdin, from standard input; never from a flag.")
    @Option(help: "The machine identity's id") var identityId: String
    @Option(help: "The LDAP user name") var username: String
    @Flag(help: "Read the password from standard input") var passwordStdin = false
    @OptionGroup var options: LoginOptions

    func run() async throws {
        let password: String
        if passwordStdin {
            password = (readLine(strippingNewline: true) ?? "")
        } else {
            password = ProcessInfo.processInfo.environment["KMS_LDAP_PASSWORD"] ?? ""
        }
        guard !password.isEmpty else { throw ValidationError("a password is required: set KMS_LDAP_PASSWORD or pass --password-stdin") }
        let answer = try await APIClient(baseURL: options.serverURL, token: "")
            .call(.POST, "/api/v1/auth/ldap-auth/login", body: ["identityId": identityId, "username": username, "password": password])
        try options.emitLogin(answer)
    }
}
