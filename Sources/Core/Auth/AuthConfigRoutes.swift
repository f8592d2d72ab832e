import Foundation
import Hummingbird

/// Attach, read, update and revoke one provider's config on an identity, under
/// `/api/v1/auth/{method}/identities/{identityId}`: the routes every identity auth provider
/// shares. Managing a config takes the org admin role (an instance admin for an instance-admin
/// identity); every change and read is audited.
public struct AuthConfigRoutes<P: IdentityAuthProvider>: Sendable {
    let provider: P
    let platform: Platform
    public let store: AuthConfigStore<P>

    public init(provider: P, platform: Platform) {
        self.provider = provider
        self.platform = platform
        store = AuthConfigStore(provider: provider, platform: platform)
    }

    public func register(_ group: RouterGroup<KMSRequestContext>) {
        let path = RouterPath("/api/v1/auth/\(provider.method)/identities/{identityId}")
        group.post(path, use: attach)
        group.get(path, use: get)
        group.patch(path, use: update)
        group.delete(path, use: revoke)
    }

    /// `{<responseKey>: config}`.
    public struct Answer: ResponseGenerator {
        let key: String
        let config: StoredAuthConfig<P.Config>

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        struct Body: Encodable, Sendable {
            let key: String
            let config: StoredAuthConfig<P.Config>
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: Key.self)
                try c.encode(config, forKey: Key(stringValue: key))
            }
        }

        public func response(from request: Request, context: some RequestContext) throws -> Response {
            try JSONResponse(Body(key: key, config: config)).response(from: request, context: context)
        }
    }

    /// The body of attach and update: the shared token settings and the provider's own fields.
    struct Body {
        let tokens: AccessTokenSettings.Input
        let lockout: LockoutPolicy.Input
        let own: P.Input
    }

    func body(_ request: Request, _ context: KMSRequestContext) async throws -> Body {
        // One body, three views of it: no round trip through another representation.
        let data = try await request.jsonData(context: context)
        let decoder = JSONDecoder()
        return Body(tokens: try decoder.decode(AccessTokenSettings.Input.self, from: data),
                    lockout: try decoder.decode(LockoutPolicy.Input.self, from: data), own: try decoder.decode(P.Input.self, from: data))
    }

    func identity(_ context: KMSRequestContext, action: String) async throws -> (Principal, Identity) {
        try await context.identity(platform, .admin, action: action)
    }

    func notAttached() -> APIError { APIError.notFound("\(provider.displayName) is not attached to this identity") }

    func audit(_ event: String, _ principal: Principal, _ identity: Identity, _ context: KMSRequestContext, _ extra: [String: String] = [:]) async throws {
        try await platform.audit.record(AuditEvent("\(provider.method)-\(event)", orgId: identity.orgId, actor: principal.auditActor, ipAddress: context.clientIP,
                                                   userAgent: context.userAgent, metadata: extra.merging(["identityId": identity.id]) { a, _ in a }))
    }

    func reload(_ identity: Identity) async throws -> StoredAuthConfig<P.Config> {
        guard let config = try await store.load(identityId: identity.id) else { throw notAttached() }
        return config
    }

    @Sendable func attach(_ request: Request, context: KMSRequestContext) async throws -> Answer {
        let (principal, identity) = try await identity(context, action: "configure identity auth")
        let body = try await body(request, context)
        let tokens = try AccessTokenSettings().applying(body.tokens)
        let lockout = try LockoutPolicy().applying(body.lockout)
        let own = try await provider.config(from: body.own, current: nil)
        try await store.insert(identity: identity, tokens: tokens, lockout: lockout, own: own)
        try await audit("attached", principal, identity, context, provider.auditMetadata(of: own))
        return Answer(key: provider.responseKey, config: try await reload(identity))
    }

    @Sendable func get(_ request: Request, context: KMSRequestContext) async throws -> Answer {
        let (principal, identity) = try await identity(context, action: "read identity auth")
        let config = try await reload(identity)
        try await audit("read", principal, identity, context)
        return Answer(key: provider.responseKey, config: config)
    }

    @Sendable func update(_ request: Request, context: KMSRequestContext) async throws -> Answer {
        let (principal, identity) = try await identity(context, action: "configure identity auth")
        let current = try await reload(identity)
        let body = try await body(request, context)
        let tokens = try current.tokens.applying(body.tokens)
        let lockout = try current.lockout.applying(body.lockout)
        let own = try await provider.config(from: body.own, current: current.own)
        try await store.update(configId: current.id, tokens: tokens, lockout: lockout, own: own)
        try await audit("updated", principal, identity, context, provider.auditMetadata(of: own))
        return Answer(key: provider.responseKey, config: try await reload(identity))
    }

    @Sendable func revoke(_ request: Request, context: KMSRequestContext) async throws -> Answer {
        let (principal, identity) = try await identity(context, action: "configure identity auth")
        let config = try await reload(identity)
        let revoked = try await store.delete(config)
        try await audit("revoked", principal, identity, context, ["tokensRevoked": String(revoked)])
        return Answer(key: provider.responseKey, config: config)
    }
}
