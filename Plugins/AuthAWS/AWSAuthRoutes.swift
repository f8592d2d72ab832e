import AWSKit
import Core
import Foundation
import Hummingbird
import Metrics

/// AWS Auth: attach/update/get/revoke an identity's config, and log in with a signed STS
/// GetCallerIdentity request (Infisical's form, the raw form, and Aembit Edge's form).
struct AWSAuthRoutes: Sendable {
    let platform: Platform
    let forwarder: STSForwarder
    let maxSkew: TimeInterval
    static let method = "aws-auth"
    private let logins = Counter(label: "kms_logins_total", dimensions: [("method", "aws-auth")])
    private let failures = Counter(label: "kms_login_failures_total", dimensions: [("method", "aws-auth")])

    func register(_ routes: PluginRoutes) {
        let path: RouterPath = "/api/v1/auth/aws-auth/identities/{identityId}"
        routes.authenticated.post(path, use: attach)
        routes.authenticated.patch(path, use: update)
        routes.authenticated.get(path, use: get)
        routes.authenticated.delete(path, use: revoke)
        routes.open.post("/api/v1/auth/aws-auth/login", use: login)
        routes.open.post("/edge/v1/auth", use: edgeLogin)
    }

    struct One: Encodable, Sendable { let identityAwsAuth: AWSAuthConfig }

    private func identity(_ context: KMSRequestContext, action: String) async throws -> (Principal, Identity) {
        try await context.identity(platform, .admin, action: action)
    }

    func load(identityId: String) async throws -> AWSAuthConfig? {
        try await platform.database.first("SELECT * FROM aws_auth_configs WHERE identity_id = $1", [.text(identityId)]).map(AWSAuthConfig.init(row:))
    }

    private func audit(_ event: String, _ actor: AuditActor, orgId: String, _ context: KMSRequestContext, _ metadata: [String: String]) async throws {
        try await platform.audit.record(AuditEvent(event, orgId: orgId, actor: actor, ipAddress: context.clientIP, userAgent: context.userAgent, metadata: metadata))
    }

    @Sendable func attach(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (principal, identity) = try await identity(context, action: "configure identity auth")
        let input = try await request.json(AWSAuthConfigInput.self, context: context)
        let settings = try AccessTokenSettings().applying(input.tokenInput)
        let sts = input.stsEndpoint ?? "https://sts.amazonaws.com/"
        let principals = input.allowedPrincipalArns ?? "", accounts = input.allowedAccountIds ?? ""
        try AWSAuthConfigInput.validate(principals: principals, accounts: accounts, stsEndpoint: sts, serverId: input.iamServerIdHeaderValue)
        let id = SecureRandom.id()
        let now = platform.clock.now()
        let p = platform
        try await p.database.transaction { db in
            try await p.identities.attachAuthMethod(identityId: identity.id, method: Self.method, configId: id, on: db)
            try await db.query("""
                INSERT INTO aws_auth_configs (id, identity_id, org_id, sts_endpoint, allowed_principal_arns, allowed_account_ids, server_id_header,
                    ttl, max_ttl, num_uses_limit, trusted_ips, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
                """, [.text(id), .text(identity.id), .text(identity.orgId), .text(sts), .text(principals), .text(accounts), DBValue(input.iamServerIdHeaderValue),
                      .int(Int64(settings.ttl)), .int(Int64(settings.maxTTL)), .int(Int64(settings.numUsesLimit)), .text(settings.trustedIPsJSON), DBValue(now)])
        }
        try await audit("aws-auth-attached", principal.auditActor, orgId: identity.orgId, context, ["identityId": identity.id, "allowedPrincipalArns": principals, "allowedAccountIds": accounts])
        guard let config = try await load(identityId: identity.id) else { throw APIError.notFound("AWS Auth not found") }
        return JSONResponse(One(identityAwsAuth: config))
    }

    @Sendable func update(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (principal, identity) = try await identity(context, action: "configure identity auth")
        guard let current = try await load(identityId: identity.id) else { throw APIError.notFound("AWS Auth is not attached to this identity") }
        let input = try await request.json(AWSAuthConfigInput.self, context: context)
        let settings = try current.settings.applying(input.tokenInput)
        let sts = input.stsEndpoint ?? current.stsEndpoint
        let principals = input.allowedPrincipalArns ?? current.allowedPrincipalArns
        let accounts = input.allowedAccountIds ?? current.allowedAccountIds
        let serverId = input.iamServerIdHeaderValue.map { $0.isEmpty ? nil : $0 } ?? current.serverIdHeaderValue
        try AWSAuthConfigInput.validate(principals: principals, accounts: accounts, stsEndpoint: sts, serverId: serverId)
        try await platform.database.query("""
            UPDATE aws_auth_configs SET sts_endpoint = $2, allowed_principal_arns = $3, allowed_account_ids = $4, server_id_header = $5,
                ttl = $6, max_ttl = $7, num_uses_limit = $8, trusted_ips = $9, updated_at = $10 WHERE id = $1
            """, [.text(current.id), .text(sts), .text(principals), .text(accounts), DBValue(serverId), .int(Int64(settings.ttl)),
                  .int(Int64(settings.maxTTL)), .int(Int64(settings.numUsesLimit)), .text(settings.trustedIPsJSON), DBValue(platform.clock.now())])
        try await audit("aws-auth-updated", principal.auditActor, orgId: identity.orgId, context, ["identityId": identity.id, "allowedPrincipalArns": principals, "allowedAccountIds": accounts])
        guard let config = try await load(identityId: identity.id) else { throw APIError.notFound("AWS Auth not found") }
        return JSONResponse(One(identityAwsAuth: config))
    }

    @Sendable func get(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (principal, identity) = try await identity(context, action: "read identity auth")
        guard let config = try await load(identityId: identity.id) else { throw APIError.notFound("AWS Auth is not attached to this identity") }
        try await audit("aws-auth-read", principal.auditActor, orgId: identity.orgId, context, ["identityId": identity.id])
        return JSONResponse(One(identityAwsAuth: config))
    }

    @Sendable func revoke(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (principal, identity) = try await identity(context, action: "configure identity auth")
        guard let config = try await load(identityId: identity.id) else { throw APIError.notFound("AWS Auth is not attached to this identity") }
        let p = platform
        let revoked = try await p.database.transaction { db in
            try await db.query("DELETE FROM aws_auth_configs WHERE id = $1", [.text(config.id)])
            try await p.identities.detachAuthMethod(identityId: identity.id, method: Self.method, on: db)
            return try await p.tokens.revokeAll(authConfigId: config.id, on: db)
        }
        try await audit("aws-auth-revoked", principal.auditActor, orgId: identity.orgId, context, ["identityId": identity.id, "tokensRevoked": String(revoked)])
        return JSONResponse(One(identityAwsAuth: config))
    }

    // MARK: Login

    @Sendable func login(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<TokenRoutes.TokenOutput> {
        let input = try await request.json(LoginInput.self, context: context)
        let issued = try await authenticate(identityId: input.identityId, method: input.iamHttpRequestMethod, body: try input.decodedBody(),
                                            headers: try input.decodedHeaders(), url: try input.decodedURL(), context: context)
        return JSONResponse(TokenRoutes.TokenOutput(token: issued.token, record: issued.record, now: platform.clock.now()))
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
    /// to STS before anything about the identity is revealed; failures are audited (within the
    /// organization's failure budget) with their real reason.
    func authenticate(identityId: String, method: String, body: String, headers: [String: String], url: String?,
                      context: KMSRequestContext) async throws -> (token: String, record: AccessTokenRecord) {
        let config = try await load(identityId: identityId)
        let anonymous = AuditActor(type: "identity", id: identityId, metadata: ["identityId": identityId, "authMethod": Self.method])
        var callerArn: String?
        do {
            let signed = try SignedLoginRequest.validate(method: method, body: body, headers: headers, url: url, now: platform.clock.now(), maxSkew: maxSkew)
            let identity = try await forwarder.callerIdentity(signed)
            callerArn = identity.arn
            guard let config else { throw Self.notAllowed }
            // Server-ID failures answer like every other refusal, so they reveal no identity.
            do { try ServerIDHeader.check(signed, expected: config.serverIdHeaderValue) } catch let error as APIError {
                throw Refusal(reason: error.message)
            }
            // Fail closed on configs saved before bindings were required.
            if let unbound = AWSAuthConfigInput.bindingProblem(principals: config.principalPatterns, accounts: config.accountIds) {
                throw Refusal(reason: "the AWS Auth config is refused: \(unbound)")
            }
            guard let caller = PrincipalMatcher.parseCaller(identity.arn), caller.account == identity.account else {
                throw Refusal(reason: "the caller ARN \(identity.arn) is not an IAM user or assumed role")
            }
            if caller.kind == "root" { throw Refusal(reason: "the AWS account root user may not log in") }
            if !config.accountIds.isEmpty, !config.accountIds.contains(identity.account) {
                throw Refusal(reason: "account \(identity.account) is not in allowedAccountIds")
            }
            if !config.principalPatterns.isEmpty, !PrincipalMatcher.allows(config.principalPatterns, caller) {
                throw Refusal(reason: "principal \(identity.arn) is not in allowedPrincipalArns")
            }
            let s = config.settings
            let issued = try await platform.tokens.issue(TokenSpec(orgId: config.orgId, subject: .identity(identityId), authMethod: Self.method,
                                                                   authConfigId: config.id, ttl: s.ttl, maxTTL: s.maxTTL,
                                                                   numUsesLimit: s.numUsesLimit, trustedIPs: s.trustedIPs),
                                                         whileConfigUnchanged: "aws_auth_configs", configId: config.id, updatedAt: config.updatedAt)
            logins.increment()
            try await audit("aws-auth-login", anonymous, orgId: config.orgId, context, ["identityId": identityId, "callerArn": identity.arn,
                                                                                          "account": identity.account, "tokenId": issued.record.id])
            return issued
        } catch let refusal as Refusal {
            try await recordFailure(config: config, identityId: identityId, reason: refusal.reason, callerArn: callerArn, actor: anonymous, context)
            throw Self.notAllowed
        } catch let error as APIError {
            try await recordFailure(config: config, identityId: identityId, reason: error.message, callerArn: callerArn, actor: anonymous, context)
            throw error
        }
    }

    /// A reason for refusing a verified caller: audited in full, answered as ``notAllowed``.
    struct Refusal: Error { let reason: String }

    private func recordFailure(config: AWSAuthConfig?, identityId: String, reason: String, callerArn: String?, actor: AuditActor,
                               _ context: KMSRequestContext) async throws {
        failures.increment()
        guard let config else { return }
        var metadata = ["identityId": identityId, "reason": reason]
        if let callerArn { metadata["callerArn"] = callerArn }
        _ = try? await platform.audit.recordFailure(AuditEvent("aws-auth-login-failed", orgId: config.orgId, actor: actor, ipAddress: context.clientIP,
                                                               userAgent: context.userAgent, metadata: metadata))
    }
}
