import Core
import Foundation
import Hummingbird

/// OIDC Auth's login: `{identityId, jwt}`. Core serves the config routes.
struct OIDCAuthRoutes: Sendable {
    let platform: Platform
    let provider: OIDCAuthProvider
    let verifier: OIDCTokenVerifier
    /// Built once: it holds the login metrics.
    let logins: IdentityLogin<OIDCAuthProvider>

    /// Every refused login gets this answer, whatever the reason (the audit log has it).
    static let refusal = APIError.unauthorized("the token is not valid for this identity")

    init(platform: Platform, provider: OIDCAuthProvider, verifier: OIDCTokenVerifier) {
        self.platform = platform
        self.provider = provider
        self.verifier = verifier
        logins = IdentityLogin(provider: provider, platform: platform, refusal: Self.refusal)
    }

    func register(_ routes: PluginRoutes) { logins.register(routes, loginPath: "/api/v1/auth/oidc-auth/login", login: login) }

    struct LoginInput: Decodable { let identityId: String; let jwt: String }

    @Sendable func login(_ request: Request, context: KMSRequestContext) async throws -> (token: String, record: AccessTokenRecord) {
        let input = try await request.json(LoginInput.self, context: context)
        // A malformed token is a bad request, refused before anything is looked up or fetched.
        _ = try OIDCTokenVerifier.header(of: input.jwt)
        let issued = try await logins.login(identityId: input.identityId, context: context) { config in
            guard let config else { throw LoginRefusal("the identity has no OIDC Auth") }
            let claims = try await verifier.verify(input.jwt, config: config.own, now: platform.clock.now())
            var metadata = ["subject": String((claims["sub"]?.string ?? "").prefix(256)), "issuer": config.own.boundIssuer]
            if let jti = claims["jti"]?.string { metadata["jti"] = String(jti.prefix(128)) }
            return metadata
        }
        return issued
    }
}
