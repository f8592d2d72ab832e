import Foundation
import Hummingbird
import Metrics

/// The part of every login that Core owns: lockout per identity, method and client address
/// (429 with `Retry-After`, shared by replicas through the database); the token is issued only
/// while the verified config still exists unchanged; success and failure are audited (failures
/// within the failure budget, with their real reason); a refused caller gets the provider's
/// common answer; metrics count both.
public struct IdentityLogin<P: IdentityAuthProvider>: Sendable {
    let provider: P
    let platform: Platform
    let store: AuthConfigStore<P>
    /// The answer to every refused caller, whatever the reason (and to identities that do not
    /// exist or lack the method), so answers are no oracle.
    let refusal: APIError
    private let logins: Counter
    private let failures: Counter
    /// Where a successful login's time goes, per phase (`lookup`: the config and the lockout
    /// record; `verify`: the provider's check, after the lookup; `issue`: the token and its
    /// audit entry, one commit).
    private let phases: [String: LatencyMetric]

    public init(provider: P, platform: Platform, refusal: APIError) {
        self.provider = provider
        self.platform = platform
        self.refusal = refusal
        store = AuthConfigStore(provider: provider, platform: platform)
        logins = Counter(label: "kms_logins_total", dimensions: [("method", provider.method)])
        failures = Counter(label: "kms_login_failures_total", dimensions: [("method", provider.method)])
        phases = Dictionary(uniqueKeysWithValues: ["lookup", "verify", "issue"].map {
            ($0, LatencyMetric(label: "kms_login_phase_seconds", dimensions: [("method", provider.method), ("phase", $0)]))
        })
    }

    /// Logs `identityId` in for a method whose credential a third party verifies without the
    /// config (AWS Auth: STS says who signed). `prove` starts at once and runs while Core reads
    /// the config and the lockout record, so the login waits for the slower of the two rather
    /// than for both; `admit` then judges the proven caller against the config (nil when the
    /// identity has none), as `verify` does in ``login(identityId:context:verify:)``. A locked
    /// out caller is refused as soon as that is known, and the proof is cancelled (the third
    /// party was asked all the same: the price of not waiting for the lockout read first).
    public func login<Proof: Sendable>(identityId: String, context: KMSRequestContext,
                                       prove: @escaping @Sendable () async throws -> Proof,
                                       admit: (Proof, StoredAuthConfig<P.Config>?) throws -> [String: String]) async throws -> (token: String, record: AccessTokenRecord) {
        // A malformed id is refused before anything is sent to a third party.
        try Self.requireWellFormed(identityId)
        let proving = Task { try await prove() }
        return try await withTaskCancellationHandler {
            defer { proving.cancel() }
            return try await login(identityId: identityId, context: context) { config in try admit(try await proving.value, config) }
        } onCancel: {
            proving.cancel()
        }
    }

    /// Logs `identityId` in. `verify` checks the caller against the config (nil when the
    /// identity has none): it returns audit metadata, throws ``LoginRefusal`` for a verified
    /// caller the config does not admit, or an ``APIError`` for a bad or unverifiable request.
    public func login(identityId: String, context: KMSRequestContext,
                      verify: (StoredAuthConfig<P.Config>?) async throws -> [String: String]) async throws -> (token: String, record: AccessTokenRecord) {
        try Self.requireWellFormed(identityId)
        let started = ContinuousClock.now
        let config = try await store.load(identityId: identityId)
        let actor = AuditActor(type: "identity", id: identityId, metadata: ["identityId": identityId, "authMethod": provider.method])
        let lockout = LoginLockout(database: platform.database, clock: platform.clock)
        let ip = ClientKey.of(context.clientIP)
        // Unknown identities are locked like known ones, so locking is no oracle either.
        let failuresOnRecord = try await lockout.check(identityId: identityId, method: provider.method, ip: ip, policy: config?.lockout ?? LockoutPolicy())
        var mark = Phase(started: started, timers: phases)
        mark.end("lookup")
        do {
            let metadata = try await verify(config)
            mark.end("verify")
            guard let config else { throw LoginRefusal("the identity has no \(provider.displayName)") }
            let s = config.tokens
            let (eventType, orgId, clientIP, userAgent) = ("\(provider.method)-login", config.orgId, context.clientIP, context.userAgent)
            // The token and the entry recording its issue are written in one commit.
            let issued = try await platform.tokens.issue(TokenSpec(orgId: config.orgId, subject: .identity(identityId), authMethod: provider.method,
                                                                   authConfigId: config.id, ttl: s.ttl, maxTTL: s.maxTTL,
                                                                   numUsesLimit: s.numUsesLimit, trustedIPs: s.trustedIPs),
                                                         whileConfigUnchanged: provider.configTable, configId: config.id, updatedAt: config.updatedAt,
                                                         audit: platform.audit) { tokenId in
                AuditEvent(eventType, orgId: orgId, actor: actor, ipAddress: clientIP, userAgent: userAgent,
                           metadata: metadata.merging(["identityId": identityId, "tokenId": tokenId]) { a, _ in a })
            }
            logins.increment()
            mark.end("issue")
            // No write on the common path: only a record of failures needs clearing.
            if failuresOnRecord { try await lockout.succeed(identityId: identityId, method: provider.method, ip: ip) }
            return issued
        } catch let refused as LoginRefusal {
            await recordFailure(config, identityId: identityId, reason: refused.reason, metadata: refused.metadata, actor: actor, context)
            try await countFailure(config, identityId: identityId, lockout: lockout, ip: ip, actor: actor, context)
            throw refusal
        } catch let error as APIError where error.code == .badGateway {
            // What failed upstream (URLs, addresses, TLS errors) is for the org's audit log, not
            // for an anonymous caller.
            await recordFailure(config, identityId: identityId, reason: error.message, metadata: [:], actor: actor, context)
            throw APIError.badGateway("\(provider.displayName) could not verify the login: a service it depends on failed (the organization's audit log has the reason)")
        } catch let error as APIError {
            await recordFailure(config, identityId: identityId, reason: error.message, metadata: [:], actor: actor, context)
            // A rejected credential counts towards the lockout (unless anyone could forge it, see
            // `countsRejectedCredentials`); a malformed request does not.
            if provider.countsRejectedCredentials, error.code == .unauthorized || error.code == .forbidden {
                try await countFailure(config, identityId: identityId, lockout: lockout, ip: ip, actor: actor, context)
            }
            throw error
        }
    }

    /// Registers the provider's routes: Core's config routes and its login at `loginPath`,
    /// whose handler reads the body and calls ``login(identityId:context:verify:)``; the answer
    /// is the issued token in the login shape every client reads.
    public func register(_ routes: PluginRoutes, loginPath: String,
                         login handler: @escaping @Sendable (Request, KMSRequestContext) async throws -> (token: String, record: AccessTokenRecord)) {
        AuthConfigRoutes(provider: provider, platform: platform).register(routes.authenticated)
        let clock = platform.clock
        routes.login.post(RouterPath(loginPath)) { request, context -> JSONResponse<TokenRoutes.TokenOutput> in
            let issued = try await handler(request, context)
            return JSONResponse(TokenRoutes.TokenOutput(token: issued.token, record: issued.record, now: clock.now()))
        }
    }

    private func countFailure(_ config: StoredAuthConfig<P.Config>?, identityId: String, lockout: LoginLockout, ip: String, actor: AuditActor,
                              _ context: KMSRequestContext) async throws {
        guard let until = try await lockout.fail(identityId: identityId, method: provider.method, ip: ip, policy: config?.lockout ?? LockoutPolicy()),
              let config else { return }
        try? await platform.audit.record(AuditEvent("\(provider.method)-login-locked", orgId: config.orgId, actor: actor, ipAddress: context.clientIP,
                                                    userAgent: context.userAgent,
                                                    metadata: ["identityId": identityId, "lockedUntil": ISO8601Format.string(until)]))
    }

    private func recordFailure(_ config: StoredAuthConfig<P.Config>?, identityId: String, reason: String, metadata: [String: String],
                               actor: AuditActor, _ context: KMSRequestContext) async {
        failures.increment()
        guard let config else { return }
        _ = try? await platform.audit.recordFailure(AuditEvent("\(provider.method)-login-failed", orgId: config.orgId, actor: actor,
                                                               ipAddress: context.clientIP, userAgent: context.userAgent,
                                                               metadata: metadata.merging(["identityId": identityId, "reason": reason]) { a, _ in a }))
    }
}

extension IdentityLogin {
    static func requireWellFormed(_ identityId: String) throws {
        guard (1...128).contains(identityId.count) else { throw APIError.badRequest("identityId must be 1-128 characters") }
    }
}

/// Times consecutive phases: each ``end(_:)`` records the time since the previous one.
private struct Phase {
    var started: ContinuousClock.Instant
    let timers: [String: LatencyMetric]

    mutating func end(_ name: String) {
        let now = ContinuousClock.now
        timers[name]?.record(since: started, to: now)
        started = now
    }
}
