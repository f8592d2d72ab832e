import Foundation
import Logging
import ServiceLifecycle

/// A privileged-access session as the API shows it.
public struct PAMSession: Encodable, Sendable {
    public let id: String
    public let projectId: String
    public let resourceType: String
    public let resourceId: String
    public let accountId: String
    public let userId: String
    public let userEmail: String
    public let ipAddress: String?
    public let userAgent: String?
    public let reason: String?
    public let accessMethod: String
    public let target: String
    public let federatedUsername: String
    public let status: String
    public let startedAt: Date
    public let expiresAt: Date
    public let endedAt: Date?
    /// The approved request the session was opened under, if the account needs approval.
    public let requestId: String?
    /// The identity the cloud session carries; a revocation denies it.
    public let sourceIdentity: String?
    let orgId: String

    enum CodingKeys: String, CodingKey {
        case id, projectId, resourceType, resourceId, accountId, userId, userEmail, ipAddress, userAgent, reason, accessMethod, target
        case federatedUsername, status, startedAt, expiresAt, endedAt, requestId, sourceIdentity
    }

    init(row: DBRow) throws {
        id = try row.string("id"); orgId = try row.string("org_id"); projectId = try row.string("project_id")
        resourceType = try row.string("resource_type"); resourceId = try row.string("resource_id"); accountId = try row.string("account_id")
        userId = try row.string("user_id"); userEmail = try row.string("user_email"); ipAddress = try row.optionalString("ip_address")
        userAgent = try row.optionalString("user_agent"); reason = try row.optionalString("reason"); accessMethod = try row.string("access_method")
        target = try row.string("target"); federatedUsername = try row.string("federated_username"); status = try row.string("status")
        startedAt = try row.date("started_at"); expiresAt = try row.date("expires_at"); endedAt = try row.optionalDate("ended_at")
        requestId = try row.optionalString("request_id"); sourceIdentity = try row.optionalString("source_identity")
    }
}

/// What a PAM provider grants when it opens a session.
public struct PAMGrant: Sendable {
    public let target: String
    public let federatedUsername: String
    public let expiresAt: Date
    /// The identity the cloud session carries (AWS `SourceIdentity`), if the provider sets one.
    public let sourceIdentity: String?

    public init(target: String, federatedUsername: String, expiresAt: Date, sourceIdentity: String? = nil) {
        self.target = target
        self.federatedUsername = federatedUsername
        self.expiresAt = expiresAt
        self.sourceIdentity = sourceIdentity
    }
}

/// The generic PAM session engine: records sessions (only once access was really granted),
/// lists them per project, and marks them ended at expiry.
public struct PAMSessionStore: Sendable {
    let platform: Platform

    public init(platform: Platform) { self.platform = platform }

    /// Records a granted session and audits it.
    public func record(orgId: String, projectId: String, resourceType: String, resourceId: String, accountId: String, user: Principal,
                       method: String, reason: String?, grant: PAMGrant, request: RequestInfo, requestId: String? = nil) async throws -> PAMSession {
        guard case .user(let userId) = user.subject else { throw APIError.forbidden("only signed-in users can open access sessions") }
        let id = SecureRandom.id()
        try await platform.database.query("""
            INSERT INTO pam_sessions (id, org_id, project_id, resource_type, resource_id, account_id, user_id, user_email, ip_address, user_agent,
                reason, access_method, target, federated_username, status, started_at, expires_at, request_id, source_identity)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'active', $15, $16, $17, $18)
            """, [.text(id), .text(orgId), .text(projectId), .text(resourceType), .text(resourceId), .text(accountId), .text(userId),
                  .text(user.email ?? ""), DBValue(request.clientIP), DBValue(request.userAgent), DBValue(reason), .text(method), .text(grant.target),
                  .text(grant.federatedUsername), DBValue(platform.clock.now()), DBValue(grant.expiresAt), DBValue(requestId), DBValue(grant.sourceIdentity)])
        try await platform.audit.record(AuditEvent("pam-session-started", orgId: orgId, projectId: projectId, actor: user.auditActor,
                                                   ipAddress: request.clientIP, userAgent: request.userAgent,
                                                   metadata: ["sessionId": id, "accountId": accountId, "resourceId": resourceId, "method": method,
                                                              "target": grant.target, "federatedUsername": grant.federatedUsername,
                                                              "reason": reason ?? "", "expiresAt": ISO8601Format.string(grant.expiresAt),
                                                              "sourceIdentity": grant.sourceIdentity ?? "", "requestId": requestId ?? ""]))
        guard let session = try await find(id: id) else { throw StorageError.other("session vanished") }
        return session
    }

    public func find(id: String) async throws -> PAMSession? {
        try await platform.database.first("SELECT * FROM pam_sessions WHERE id = $1", [.text(id)]).map(PAMSession.init(row:))
    }

    public func list(projectId: String) async throws -> [PAMSession] {
        try await platform.database.query("SELECT * FROM pam_sessions WHERE project_id = $1 ORDER BY started_at DESC LIMIT 500", [.text(projectId)])
            .map(PAMSession.init(row:))
    }

    /// Marks an active session revoked; nil when it is not active.
    public func markRevoked(id: String) async throws -> PAMSession? {
        let now = platform.clock.now()
        return try await platform.database.first(SQL("""
            UPDATE pam_sessions SET status = 'revoked', ended_at = \(now) WHERE id = \(id) AND status = 'active' RETURNING *
            """)).map(PAMSession.init(row:))
    }

    /// How many sessions on a resource are active.
    public func activeCount(resourceId: String, projectId: String) async throws -> Int {
        Int(try await platform.database.first(SQL("""
            SELECT COUNT(*) AS n FROM pam_sessions WHERE resource_id = \(resourceId) AND project_id = \(projectId) AND status = 'active'
            """))?.int("n") ?? 0)
    }

    /// Every session opened under an access request.
    public func sessions(requestId: String) async throws -> [PAMSession] {
        try await platform.database.query(SQL("SELECT * FROM pam_sessions WHERE request_id = \(requestId)")).map(PAMSession.init(row:))
    }

    /// Marks every session past its expiry as ended; returns how many.
    @discardableResult
    public func endExpired() async throws -> Int {
        let now = platform.clock.now()
        let ended = try await platform.database.query(
            "UPDATE pam_sessions SET status = 'ended', ended_at = expires_at WHERE status = 'active' AND expires_at <= $1 RETURNING *", [DBValue(now)])
        for row in ended {
            let s = try PAMSession(row: row)
            try await platform.audit.record(AuditEvent("pam-session-ended", orgId: s.orgId, projectId: s.projectId, actor: .system,
                                                       metadata: ["sessionId": s.id, "reason": "expired"]))
        }
        return ended.count
    }
}

/// Ends expired PAM sessions periodically; state lives in the database, so restarts lose nothing.
public struct PAMSessionExpiry: Service {
    let store: PAMSessionStore
    let requests: PAMRequestStore
    let grants: PAMGrants
    let interval: Duration
    let platform: Platform

    public init(platform: Platform, providers: ProviderRegistry, settings: PAMSettings = PAMSettings(), interval: Duration = .seconds(10)) {
        self.platform = platform
        store = PAMSessionStore(platform: platform)
        requests = PAMRequestStore(platform: platform)
        grants = PAMGrants(platform: platform, providers: providers, settings: settings)
        self.interval = interval
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await pass() } catch {
                    platform.logger.warning("PAM expiry pass failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One pass: grants whose time is up close and their sessions are revoked for real;
    /// sessions past expiry end; pending requests past 24 h expire (and notify); revocations no
    /// session can outlive are removed.
    public func pass() async throws {
        // Grants first: a session capped at its grant's end is revoked (its cloud session
        // outlives the grant), not merely marked ended.
        for request in try await requests.closeEndedGrants() {
            do { try await grants.closeGrant(request, actor: .system, why: "the grant ended") } catch {
                platform.logger.warning("closing an ended PAM grant failed; its revocation is retried", metadata: ["requestId": "\(request.id)", "error": "\(error)"])
            }
        }
        _ = try await store.endExpired()
        for request in try await requests.expirePending() {
            try await platform.audit.record(AuditEvent("pam-access-request-expired", orgId: request.orgId, projectId: request.projectId, actor: .system,
                                                       metadata: ["requestId": request.id, "requester": request.requester.email]))
            if let account = try await PAMStore(platform: platform).account(id: request.accountId, projectId: request.projectId) {
                try await PAMNotifications(platform: platform).enqueue(request, event: "expired", account: account)
            }
        }
        try await grants.revocations.cleanup()
    }
}
