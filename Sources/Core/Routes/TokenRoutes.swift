import Foundation
import Hummingbird

/// Renew, revoke and self lookup of access tokens.
public struct TokenRoutes: Sendable {
    let platform: Platform

    public init(platform: Platform) { self.platform = platform }

    public func register(open: RouterGroup<KMSRequestContext>, authenticated: RouterGroup<KMSRequestContext>) {
        open.post("/api/v1/auth/token/renew", use: renew)
        open.post("/api/v1/auth/token/revoke", use: revoke)
        authenticated.get("/api/v1/auth/token/self", use: lookupSelf)
    }

    struct TokenInput: Decodable { let accessToken: String }

    /// The answer of every route that hands out a token.
    public struct TokenOutput: Encodable, Sendable {
        public let accessToken: String
        public let expiresIn: Int
        public let accessTokenMaxTTL: Int
        public let tokenType: String

        public init(token: String, record: AccessTokenRecord, now: Date) {
            accessToken = token
            expiresIn = record.expiresIn(now: now)
            accessTokenMaxTTL = record.maxTTL
            tokenType = "Bearer"
        }
    }

    @Sendable func renew(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<TokenOutput> {
        let input = try await request.json(TokenInput.self, context: context)
        let record = try await platform.tokens.renew(input.accessToken, clientIP: context.clientIP)
        try await platform.audit.record(AuditEvent("token-renewed", orgId: record.orgId, actor: record.auditActor, ipAddress: context.clientIP,
                                                   userAgent: context.userAgent, metadata: ["tokenId": record.id]))
        return JSONResponse(TokenOutput(token: input.accessToken, record: record, now: platform.clock.now()))
    }

    struct MessageOutput: Encodable, Sendable { let message: String }

    @Sendable func revoke(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<MessageOutput> {
        let input = try await request.json(TokenInput.self, context: context)
        let record = try await platform.tokens.revoke(input.accessToken)
        try await platform.audit.record(AuditEvent("token-revoked", orgId: record.orgId, actor: record.auditActor, ipAddress: context.clientIP,
                                                   userAgent: context.userAgent, metadata: ["tokenId": record.id]))
        return JSONResponse(MessageOutput(message: "Successfully revoked access token"))
    }

    /// `{identityId, userId, orgId, authMethod, expiresAt, maxExpiresAt, numUsesLimit, numUses, trustedIps, orgRole}`,
    /// written by hand: this is the route every workload calls to check its token.
    @Sendable func lookupSelf(_ request: Request, context: KMSRequestContext) async throws -> JSONText {
        let principal = try context.requirePrincipal()
        let token = principal.token
        let (identityId, userId): (String?, String?) = switch token.subject {
        case .identity(let id): (id, nil)
        case .user(let id): (nil, id)
        }
        var out = JSONText()
        out.add("identityId", identityId)
        out.add("userId", userId)
        out.add("orgId", token.orgId)
        out.add("authMethod", token.authMethod)
        out.add("expiresAt", token.expiresAt)
        out.add("maxExpiresAt", token.maxExpiresAt)
        out.add("numUsesLimit", token.numUsesLimit)
        out.add("numUses", token.numUses)
        out.add("trustedIps", token.trustedIPs.map(\.description))
        // The caller's role in the token's organization (ours).
        out.add("orgRole", userId == nil ? principal.identityRole?.rawValue : try await platform.authorizer.orgRole(principal, orgId: token.orgId)?.rawValue)
        return out
    }
}
