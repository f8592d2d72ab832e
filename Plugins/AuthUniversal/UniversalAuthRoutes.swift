import Core
import Foundation
import Hummingbird

/// Universal Auth's own routes: client secrets of an identity (org admin) and the login.
struct UniversalAuthRoutes: Sendable {
    let platform: Platform
    let provider = UniversalAuthProvider()
    let secrets: ClientSecretStore
    let configs: AuthConfigStore<UniversalAuthProvider>
    /// Built once: it holds the login metrics.
    let logins: IdentityLogin<UniversalAuthProvider>

    init(platform: Platform) {
        self.platform = platform
        secrets = ClientSecretStore(platform: platform)
        configs = AuthConfigStore(provider: provider, platform: platform)
        logins = IdentityLogin(provider: provider, platform: platform, refusal: Self.refusal)
    }
    /// Every refused login gets this answer, whatever the reason.
    static let refusal = APIError.unauthorized("invalid client id or client secret")

    func register(_ routes: PluginRoutes) {
        logins.register(routes, loginPath: "/api/v1/auth/universal-auth/login", login: login)
        let base = "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets"
        routes.authenticated.post(RouterPath(base), use: createSecret)
        routes.authenticated.get(RouterPath(base), use: listSecrets)
        routes.authenticated.get(RouterPath(base + "/{clientSecretId}"), use: getSecret)
        routes.authenticated.post(RouterPath(base + "/{clientSecretId}/revoke"), use: revokeSecret)
    }

    /// The identity of the path and its config, for an org admin.
    func scope(_ context: KMSRequestContext, action: String) async throws -> (Principal, Identity, StoredAuthConfig<UniversalAuthConfig>) {
        let (principal, identity) = try await context.identity(platform, .admin, action: action)
        guard let config = try await configs.load(identityId: identity.id) else { throw APIError.notFound("Universal Auth is not attached to this identity") }
        return (principal, identity, config)
    }

    func audit(_ event: String, _ principal: Principal, _ identity: Identity, _ context: KMSRequestContext, _ secretId: String) async throws {
        try await platform.audit.record(AuditEvent(event, orgId: identity.orgId, actor: principal.auditActor, ipAddress: context.clientIP,
                                                   userAgent: context.userAgent, metadata: ["identityId": identity.id, "clientSecretId": secretId]))
    }

    struct SecretInput: Decodable { let description: String?; let numUsesLimit: Int?; let ttl: Int? }
    struct Created: Encodable, Sendable { let clientSecret: String; let clientSecretData: ClientSecretData }
    struct One: Encodable, Sendable { let clientSecretData: ClientSecretData }
    struct Many: Encodable, Sendable { let clientSecretData: [ClientSecretData] }

    @Sendable func createSecret(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<Created> {
        let (principal, identity, config) = try await scope(context, action: "create client secrets")
        let input = try await request.json(SecretInput.self, context: context)
        let uses = input.numUsesLimit ?? 0, ttl = input.ttl ?? 0
        guard uses >= 0 else { throw APIError.badRequest("numUsesLimit must not be negative (0 = unlimited)") }
        guard (0...AccessTokenSettings.ceiling).contains(ttl) else { throw APIError.badRequest("ttl must be between 0 (never expires) and \(AccessTokenSettings.ceiling) seconds") }
        let description = try input.description.map { $0.isEmpty ? "" : try Validate.name($0, field: "description", max: 256) } ?? ""
        let (secret, data) = try await secrets.create(configId: config.id, identity: identity, description: description, numUsesLimit: uses, ttl: ttl)
        try await audit("universal-auth-client-secret-created", principal, identity, context, data.id)
        return JSONResponse(Created(clientSecret: secret, clientSecretData: data))
    }

    @Sendable func listSecrets(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<Many> {
        let (_, _, config) = try await scope(context, action: "read client secrets")
        return JSONResponse(Many(clientSecretData: try await secrets.list(configId: config.id)))
    }

    @Sendable func getSecret(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (_, _, config) = try await scope(context, action: "read client secrets")
        guard let data = try await secrets.find(configId: config.id, id: try context.parameter("clientSecretId")) else { throw APIError.notFound("client secret not found") }
        return JSONResponse(One(clientSecretData: data))
    }

    @Sendable func revokeSecret(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (principal, identity, config) = try await scope(context, action: "revoke client secrets")
        guard let data = try await secrets.revoke(configId: config.id, id: try context.parameter("clientSecretId")) else { throw APIError.notFound("client secret not found") }
        try await audit("universal-auth-client-secret-revoked", principal, identity, context, data.id)
        return JSONResponse(One(clientSecretData: data))
    }

    struct LoginInput: Decodable { let clientId: String; let clientSecret: String }

    /// Logs in with a client id and secret. Every attempt costs one argon2 check, and every
    /// refusal gets the same answer.
    @Sendable func login(_ request: Request, context: KMSRequestContext) async throws -> (token: String, record: AccessTokenRecord) {
        let input = try await request.json(LoginInput.self, context: context)
        guard (1...256).contains(input.clientId.count), (1...512).contains(input.clientSecret.count) else { throw Self.refusal }
        // Unknown client ids are locked out like known ones, under a name of their own.
        let identityId = try await secrets.identity(clientId: input.clientId) ?? "unknown-client:" + SecureRandom.sha256Hex(input.clientId)
        let issued = try await logins.login(identityId: identityId, context: context) { config in
            // One argon2 check on every path (unknown client, untrusted address, no such secret).
            let secret = try await secrets.match(configId: config?.id, secret: input.clientSecret)
            guard let config else { throw LoginRefusal("unknown client id") }
            let allowed = context.clientIP.map { ip in config.own.trustedRanges.contains { $0.contains(ip) } } ?? config.own.trustedRanges.contains { $0.prefixLength == 0 }
            guard allowed else { throw LoginRefusal("the client secret may not be used from \(context.clientIP ?? "this address")") }
            guard let secret else { throw LoginRefusal("wrong, revoked or another identity's client secret") }
            if secret.clientSecretTTL > 0, secret.createdAt.addingTimeInterval(TimeInterval(secret.clientSecretTTL)) <= platform.clock.now() {
                throw LoginRefusal("client secret \(secret.id) has expired", metadata: ["clientSecretId": secret.id])
            }
            guard try await secrets.use(configId: config.id, id: secret.id) else {
                throw LoginRefusal("client secret \(secret.id) has reached its use limit", metadata: ["clientSecretId": secret.id])
            }
            return ["clientSecretId": secret.id, "clientId": config.own.clientId]
        }
        return issued
    }
}
