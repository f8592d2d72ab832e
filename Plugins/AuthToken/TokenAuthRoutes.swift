import Core
import Foundation
import Hummingbird
import Metrics

/// Token Auth as an identity auth provider: nothing of its own beyond the shared token settings.
struct TokenAuthProvider: IdentityAuthProvider {
    struct Config: Encodable, Sendable {}
    struct Input: Decodable, Sendable {}

    var method: String { "token-auth" }
    var configTable: String { "token_auth_configs" }
    var responseKey: String { "identityTokenAuth" }
    var displayName: String { "token auth" }

    func config(from row: DBRow) throws -> Config { Config() }
    func columns(of config: Config) -> [(String, DBValue)] { [] }
    func config(from input: Input, current: Config?) throws -> Config { Config() }
}

/// Token Auth's one route of its own: an org admin mints a token for the identity.
struct TokenAuthRoutes: Sendable {
    let platform: Platform
    let provider = TokenAuthProvider()
    private let logins = Counter(label: "kms_logins_total", dimensions: [("method", "token-auth")])

    func register(_ group: RouterGroup<KMSRequestContext>) {
        let configs = AuthConfigRoutes(provider: provider, platform: platform)
        configs.register(group)
        group.post("/api/v1/auth/token-auth/identities/{identityId}/tokens", use: createToken)
    }

    struct TokenInput: Decodable { let name: String? }

    @Sendable func createToken(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<TokenRoutes.TokenOutput> {
        let (principal, identity) = try await context.identity(platform, .admin, action: "create identity tokens")
        guard let config = try await AuthConfigStore(provider: provider, platform: platform).load(identityId: identity.id) else {
            throw APIError.notFound("token auth is not attached to this identity")
        }
        let input = try await request.json(TokenInput.self, context: context)
        let s = config.tokens
        let (orgId, identityId, actor, clientIP, userAgent) = (identity.orgId, identity.id, principal.auditActor, context.clientIP, context.userAgent)
        let issued = try await platform.tokens.issue(TokenSpec(orgId: identity.orgId, subject: .identity(identity.id), authMethod: provider.method,
                                                               authConfigId: config.id, ttl: s.ttl, maxTTL: s.maxTTL, numUsesLimit: s.numUsesLimit,
                                                               trustedIPs: s.trustedIPs),
                                                     whileConfigUnchanged: provider.configTable, configId: config.id, updatedAt: config.updatedAt,
                                                     audit: platform.audit) { tokenId in
            AuditEvent("token-auth-token-created", orgId: orgId, actor: actor, ipAddress: clientIP, userAgent: userAgent,
                       metadata: ["identityId": identityId, "tokenId": tokenId, "name": input.name ?? ""])
        }
        logins.increment()
        return JSONResponse(TokenRoutes.TokenOutput(token: issued.token, record: issued.record, now: platform.clock.now()))
    }
}
