import AWSKit
import Core
import Foundation
import Hummingbird

/// AWS Auth: attach/update/get/revoke an identity's config, and log in with a signed STS
/// GetCallerIdentity request (Infisical's form, the raw form, and Aembit Edge's form).
struct AWSAuthRoutes: Sendable {
    let platform: Platform
    let forwarder: STSForwarder
    let maxSkew: TimeInterval
    let provider = AWSAuthProvider()
    /// Built once: it holds the login metrics.
    let logins: IdentityLogin<AWSAuthProvider>
    static let method = "aws-auth"

    init(platform: Platform, forwarder: STSForwarder, maxSkew: TimeInterval) {
        self.platform = platform
        self.forwarder = forwarder
        self.maxSkew = maxSkew
        logins = IdentityLogin(provider: provider, platform: platform, refusal: Self.notAllowed)
    }

    func register(_ routes: PluginRoutes) {
        logins.register(routes, loginPath: "/api/v1/auth/aws-auth/login", login: login)
        routes.login.post("/edge/v1/auth", use: edgeLogin)
    }

    // MARK: Login

    @Sendable func login(_ request: Request, context: KMSRequestContext) async throws -> (token: String, record: AccessTokenRecord) {
        let input = try await request.json(LoginInput.self, context: context)
        return try await authenticate(identityId: input.identityId, method: input.iamHttpRequestMethod, body: try input.decodedBody(),
                                      headers: try input.decodedHeaders(), url: try input.decodedURL(), context: context)
    }

    struct EdgeOutput: Encodable, Sendable { let accessToken: String; let tokenType: String; let expiresIn: Int }

    @Sendable func edgeLogin(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<EdgeOutput> {
        let input = try await request.json(EdgeLoginInput.self, context: context)
        let sts = input.client.aws.stsGetCallerIdentity
        guard AWSEndpointResolver.isRegion(sts.region) else { throw APIError.badRequest("region is not a valid AWS region") }
        let issued = try await authenticate(identityId: input.clientId, method: "POST", body: SignedLoginRequest.exactBody,
                                            headers: sts.headers, url: nil, context: context)
        return JSONResponse(EdgeOutput(accessToken: issued.token, tokenType: "Bearer", expiresIn: issued.record.expiresIn(now: platform.clock.now())))
    }

    /// The answer to every caller that STS verified but this identity does not admit, and to
    /// every login for an identity that does not exist or has no AWS Auth: the same status and
    /// words, so the answer is no oracle of which identities exist.
    static let notAllowed = APIError.forbidden("AWS Auth login refused: the caller is not in this identity's allowedPrincipalArns or allowedAccountIds")

    /// Verifies a login end to end and issues a token. The signed request is checked and sent
    /// to STS before anything about the identity is looked at (while Core reads the config and
    /// the lockout record); Core audits the outcome.
    func authenticate(identityId: String, method: String, body: String, headers: [String: String], url: String?,
                      context: KMSRequestContext) async throws -> (token: String, record: AccessTokenRecord) {
        let (platform, maxSkew, forwarder) = (self.platform, self.maxSkew, self.forwarder)
        return try await logins.login(identityId: identityId, context: context, prove: {
            let signed = try SignedLoginRequest.validate(method: method, body: body, headers: headers, url: url, now: platform.clock.now(), maxSkew: maxSkew)
            return (signed, try await forwarder.callerIdentity(signed))
        }, admit: { proof, config in
            let (signed, identity) = proof
            let caller = ["callerArn": identity.arn]
            guard let config else { throw LoginRefusal("the identity has no AWS Auth", metadata: caller) }
            let own = config.own
            // Server-ID failures answer like every other refusal, so they reveal no identity.
            do { try ServerIDHeader.check(signed, expected: own.serverIdHeaderValue) } catch let error as APIError {
                throw LoginRefusal(error.message, metadata: caller)
            }
            // Fail closed on configs saved before bindings were required.
            if let unbound = AWSAuthConfigInput.bindingProblem(principals: own.principalPatterns, accounts: own.accountIds) {
                throw LoginRefusal("the AWS Auth config is refused: \(unbound)", metadata: caller)
            }
            guard let parsed = PrincipalMatcher.parseCaller(identity.arn), parsed.account == identity.account else {
                throw LoginRefusal("the caller ARN \(identity.arn) is not an IAM user or assumed role", metadata: caller)
            }
            if parsed.kind == "root" { throw LoginRefusal("the AWS account root user may not log in", metadata: caller) }
            if !own.accountIds.isEmpty, !own.accountIds.contains(identity.account) {
                throw LoginRefusal("account \(identity.account) is not in allowedAccountIds", metadata: caller)
            }
            if !own.principalPatterns.isEmpty, !PrincipalMatcher.allows(own.principalPatterns, parsed) {
                throw LoginRefusal("principal \(identity.arn) is not in allowedPrincipalArns", metadata: caller)
            }
            return ["callerArn": identity.arn, "account": identity.account]
        })
    }
}
