import AWSKit
import ArgumentParser
import CLISupport
import Foundation

/// AWS Auth's CLI: `kms login aws`.
extension AuthAWSPlugin: PluginCommands {
    public var loginCommands: [any ParsableCommand.Type] { [LoginAWS.self] }
    public var agentLogins: [any AgentLoginMethod] { [AWSAgentLogin()] }
}

/// `auth.method: aws` in `kms agent`: `identityId`, `serverId`; the workload's AWS credentials
/// from the default chain, resolved anew at each login (they rotate too).
struct AWSAgentLogin: AgentLoginMethod {
    var name: String { "aws" }
    func login(server: String, settings: [String: String]) async throws -> LoginAnswer {
        guard let identityId = settings["identityId"], !identityId.isEmpty else { throw ValidationError("auth.identityId is required") }
        let environment = ProcessInfo.processInfo.environment
        let query = AWSQueryClient()
        defer { Task { try? await query.shutdown() } }
        var region = settings["region"]
        if region == nil { region = await AWSRegionResolver.resolve(environment: environment, query: query, httpClient: .shared) }
        let chain = CachingCredentialProvider(DefaultCredentialChain(environment: environment, query: query, httpClient: .shared))
        let result = try await AWSAuthLoginClient(serverURL: server, region: region ?? "us-east-1", credentials: chain, serverIdHeader: settings["serverId"])
            .login(identityId: identityId)
        return LoginAnswer(accessToken: result.accessToken, expiresIn: result.expiresIn, accessTokenMaxTTL: result.accessTokenMaxTTL, tokenType: result.tokenType)
    }
}

struct LoginAWS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aws",
        abstract: "Log in as a machine identity with this workload's AWS credentials (AWS Auth).",
        discussion: "Credentials come from the AWS default chain: environment, web identity (IRSA), shared files, ECS, EC2 metadata.")
    @Option(help: "The machine identity id") var identityId: String
    @OptionGroup var options: LoginOptions
    @Option(help: "AWS region to sign for (default: AWS_REGION, AWS_DEFAULT_REGION, the profile, instance metadata, else us-east-1)") var region: String?
    @Option(help: "Value of X-KMS-AWS-IAM-Server-ID, if the identity requires it") var serverId: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let serverURL = options.serverURL
        let query = AWSQueryClient()
        defer { Task { try? await query.shutdown() } }
        var resolvedRegion = region
        if resolvedRegion == nil { resolvedRegion = await AWSRegionResolver.resolve(environment: environment, query: query, httpClient: .shared) }
        let chain = CachingCredentialProvider(DefaultCredentialChain(environment: environment, query: query, httpClient: .shared))
        let client = AWSAuthLoginClient(serverURL: serverURL, region: resolvedRegion ?? "us-east-1", credentials: chain, serverIdHeader: serverId)
        let result: AWSAuthLoginClient.Result
        do {
            result = try await client.login(identityId: identityId)
        } catch {
            throw ValidationError("\(error)")
        }
        try options.emit(token: result.accessToken, expiresIn: result.expiresIn, answer: result)
    }
}
