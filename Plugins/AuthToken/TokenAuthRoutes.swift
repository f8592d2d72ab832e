import Core
import Foundation
import Hummingbird
import Metrics

/// Attach, read, update, revoke Token Auth on an identity, and mint tokens with it.
struct TokenAuthRoutes: Sendable {
    let platform: Platform
    let method: String
    private let logins = Counter(label: "kms_logins_total", dimensions: [("method", "token-auth")])

    func register(_ group: RouterGroup<KMSRequestContext>) {
        group.post("/api/v1/auth/token-auth/identities/{identityId}", use: attach)
        group.get("/api/v1/auth/token-auth/identities/{identityId}", use: get)
        group.patch("/api/v1/auth/token-auth/identities/{identityId}", use: update)
        group.delete("/api/v1/auth/token-auth/identities/{identityId}", use: revoke)
        group.post("/api/v1/auth/token-auth/identities/{identityId}/tokens", use: createToken)
    }

    struct Config: Encodable, Sendable {
        let id: String
        let identityId: String
        let accessTokenTTL: Int
        let accessTokenMaxTTL: Int
        let accessTokenNumUsesLimit: Int
        let accessTokenTrustedIps: [AccessTokenSettings.TrustedIP]
        let createdAt: Date
        let updatedAt: Date

        var settings: AccessTokenSettings {
            AccessTokenSettings(ttl: accessTokenTTL, maxTTL: accessTokenMaxTTL, numUsesLimit: accessTokenNumUsesLimit,
                                trustedIPs: accessTokenTrustedIps.compactMap { IPRange($0.ipAddress) })
        }
    }
    struct One: Encodable, Sendable { let identityTokenAuth: Config }

    /// The identity named by the path, visible to an org admin of its organization.
    private func identity(_ context: KMSRequestContext, action: String) async throws -> (Principal, Identity) {
        try await context.identity(platform, .admin, action: action)
    }

    private func load(_ identityId: String) async throws -> Config? {
        guard let row = try await platform.database.first("SELECT * FROM token_auth_configs WHERE identity_id = $1", [.text(identityId)]) else { return nil }
        return Config(id: try row.string("id"), identityId: identityId, accessTokenTTL: Int(try row.int("ttl")), accessTokenMaxTTL: Int(try row.int("max_ttl")),
                      accessTokenNumUsesLimit: Int(try row.int("num_uses_limit")),
                      accessTokenTrustedIps: AccessTokenSettings.trustedIPs(fromJSON: try row.string("trusted_ips")).map { .init(ipAddress: $0.description) },
                      createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }

    private func audit(_ event: String, _ principal: Principal, _ identity: Identity, _ context: KMSRequestContext, _ extra: [String: String] = [:]) async throws {
        try await platform.audit.record(AuditEvent(event, orgId: identity.orgId, actor: principal.auditActor, ipAddress: context.clientIP,
                                                   userAgent: context.userAgent, metadata: extra.merging(["identityId": identity.id]) { a, _ in a }))
    }

    @Sendable func attach(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (principal, identity) = try await identity(context, action: "configure identity auth")
        let settings = try AccessTokenSettings().applying(try await request.json(AccessTokenSettings.Input.self, context: context))
        let id = SecureRandom.id()
        let now = platform.clock.now()
        let p = platform, method = self.method
        try await p.database.transaction { db in
            try await p.identities.attachAuthMethod(identityId: identity.id, method: method, configId: id, on: db)
            try await db.query("""
                INSERT INTO token_auth_configs (id, identity_id, org_id, ttl, max_ttl, num_uses_limit, trusted_ips, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
                """, [.text(id), .text(identity.id), .text(identity.orgId), .int(Int64(settings.ttl)), .int(Int64(settings.maxTTL)),
                      .int(Int64(settings.numUsesLimit)), .text(settings.trustedIPsJSON), DBValue(now)])
        }
        try await audit("token-auth-attached", principal, identity, context)
        guard let config = try await load(identity.id) else { throw APIError.notFound("token auth not found") }
        return JSONResponse(One(identityTokenAuth: config))
    }

    @Sendable func get(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (principal, identity) = try await identity(context, action: "read identity auth")
        guard let config = try await load(identity.id) else { throw APIError.notFound("token auth is not attached to this identity") }
        try await audit("token-auth-read", principal, identity, context)
        return JSONResponse(One(identityTokenAuth: config))
    }

    @Sendable func update(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (principal, identity) = try await identity(context, action: "configure identity auth")
        guard let current = try await load(identity.id) else { throw APIError.notFound("token auth is not attached to this identity") }
        let settings = try current.settings.applying(try await request.json(AccessTokenSettings.Input.self, context: context))
        try await platform.database.query("""
            UPDATE token_auth_configs SET ttl = $2, max_ttl = $3, num_uses_limit = $4, trusted_ips = $5, updated_at = $6 WHERE identity_id = $1
            """, [.text(identity.id), .int(Int64(settings.ttl)), .int(Int64(settings.maxTTL)), .int(Int64(settings.numUsesLimit)),
                  .text(settings.trustedIPsJSON), DBValue(platform.clock.now())])
        try await audit("token-auth-updated", principal, identity, context)
        guard let config = try await load(identity.id) else { throw APIError.notFound("token auth not found") }
        return JSONResponse(One(identityTokenAuth: config))
    }

    @Sendable func revoke(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (principal, identity) = try await identity(context, action: "configure identity auth")
        guard let config = try await load(identity.id) else { throw APIError.notFound("token auth is not attached to this identity") }
        let p = platform, method = self.method
        let revoked = try await p.database.transaction { db in
            try await db.query("DELETE FROM token_auth_configs WHERE id = $1", [.text(config.id)])
            try await p.identities.detachAuthMethod(identityId: identity.id, method: method, on: db)
            return try await p.tokens.revokeAll(authConfigId: config.id, on: db)
        }
        try await audit("token-auth-revoked", principal, identity, context, ["tokensRevoked": String(revoked)])
        return JSONResponse(One(identityTokenAuth: config))
    }

    struct TokenInput: Decodable { let name: String? }

    @Sendable func createToken(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<TokenRoutes.TokenOutput> {
        let (principal, identity) = try await identity(context, action: "create identity tokens")
        guard let config = try await load(identity.id) else { throw APIError.notFound("token auth is not attached to this identity") }
        let input = try await request.json(TokenInput.self, context: context)
        let s = config.settings
        let issued = try await platform.tokens.issue(TokenSpec(orgId: identity.orgId, subject: .identity(identity.id), authMethod: method, authConfigId: config.id,
                                                               ttl: s.ttl, maxTTL: s.maxTTL, numUsesLimit: s.numUsesLimit, trustedIPs: s.trustedIPs),
                                                     whileConfigUnchanged: "token_auth_configs", configId: config.id, updatedAt: config.updatedAt)
        logins.increment()
        try await audit("token-auth-token-created", principal, identity, context, ["tokenId": issued.record.id, "name": input.name ?? ""])
        return JSONResponse(TokenRoutes.TokenOutput(token: issued.token, record: issued.record, now: platform.clock.now()))
    }
}
