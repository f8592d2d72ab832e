import Foundation
import Hummingbird

/// What every PAM provider shares (api.md, "PAM"): opening access on an account, which takes the
/// project member role and a signed-in person, and the sessions, which take the viewer role.
public struct PAMAccessRoutes: Sendable {
    let platform: Platform
    let providers: ProviderRegistry
    let grants: PAMGrants
    let settings: PAMSettings
    var sessions: PAMSessionStore { PAMSessionStore(platform: platform) }

    public init(platform: Platform, providers: ProviderRegistry, settings: PAMSettings) {
        self.platform = platform
        self.providers = providers
        self.settings = settings
        grants = PAMGrants(platform: platform, providers: providers, settings: settings)
    }

    public func register(authenticated group: RouterGroup<KMSRequestContext>) {
        group.post("/api/v1/pam/accounts/access", use: access)
        group.get("/api/v1/pam/sessions", use: listSessions)
        group.get("/api/v1/pam/resources", use: listResources)
        group.get("/api/v1/pam/accounts", use: listAccounts)
        group.get("/api/v1/pam/sessions/{sessionId}", use: getSession)
        group.post("/api/v1/pam/sessions/{sessionId}/revoke", use: revokeSession)
        group.put("/api/v1/pam/notification-settings", use: setNotifications)
        group.get("/api/v1/pam/notification-settings", use: getNotifications)
        group.delete("/api/v1/pam/notification-settings", use: deleteNotifications)
    }

    struct ResourcesOutput: Encodable, Sendable { let resources: [PAMResource] }
    struct AccountsOutput: Encodable, Sendable { let accounts: [PAMAccount] }

    /// A project's resources of every type (project viewers).
    @Sendable func listResources(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<ResourcesOutput> {
        let (_, project) = try await context.project(platform, id: request.uri.queryParameters.get("projectId"), .viewer, action: "read PAM resources")
        return JSONResponse(ResourcesOutput(resources: try await PAMStore(platform: platform).resources(projectId: project.id)))
    }

    /// A project's accounts of every type (project viewers).
    @Sendable func listAccounts(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<AccountsOutput> {
        let (_, project) = try await context.project(platform, id: request.uri.queryParameters.get("projectId"), .viewer, action: "read PAM accounts")
        return JSONResponse(AccountsOutput(accounts: try await PAMStore(platform: platform).accounts(projectId: project.id)))
    }

    struct AccessInput: Decodable { let accountId: String; let projectId: String; let accessMethod: String?; let reason: String? }

    struct AccessOutput: Encodable, Sendable {
        let sessionId: String
        let resourceType: String
        let consoleUrl: String?
        let credentials: [String: String]?
        let account: PAMAccount
        let metadata: [String: String]
    }

    @Sendable func access(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<AccessOutput> {
        let input = try await request.json(AccessInput.self, context: context)
        let (principal, project) = try await context.project(platform, id: input.projectId, .member, action: "access PAM accounts")
        guard case .user = principal.subject, let email = principal.email else {
            throw APIError.forbidden("console access is for signed-in people; machine identities use dynamic secrets")
        }
        if let reason = input.reason, reason.count > 1000 { throw APIError.badRequest("reason must be at most 1000 characters") }
        let store = PAMStore(platform: platform)
        guard let account = try await store.account(id: input.accountId, projectId: project.id),
              let resource = try await store.resource(id: account.resourceId, projectId: project.id),
              let provider = providers.pamProvider(account.resourceType) else { throw APIError.notFound("account not found") }
        let method = input.accessMethod ?? provider.accessMethods.first ?? "web"
        guard provider.accessMethods.contains(method) else {
            throw APIError.badRequest("accessMethod must be \(provider.accessMethods.joined(separator: " or "))")
        }
        // An account that needs approval opens only under the caller's own open grant, and no
        // session outlives it (at its end the grant's sessions are revoked for real).
        var grant: PAMAccessRequestRecord?
        if account.accessPolicy.requiresApproval {
            guard case .user(let userId) = principal.subject,
                  let open = try await PAMRequestStore(platform: platform).openGrant(accountId: account.id, requesterId: userId) else {
                try? await platform.audit.record(AuditEvent("pam-access-denied", orgId: project.orgId, projectId: project.id, actor: principal.auditActor,
                                                            ipAddress: context.clientIP, userAgent: context.userAgent,
                                                            metadata: ["accountId": account.id, "reason": "no approved access request"]))
                throw APIError.forbidden("this account requires an approved access request: POST /api/v1/pam/access-requests")
            }
            grant = open
        }
        let grantEnd = grant?.grantExpiresAt
        try await provider.authorize(orgId: project.orgId)
        do {
            let remaining = grantEnd.map { max(1, Int($0.timeIntervalSince(platform.clock.now()))) }
            let opened = try await provider.openAccess(PAMAccessRequest(resource: resource, account: account, maxDuration: remaining, orgId: project.orgId,
                                                                        projectId: project.id, email: email, method: method, publicURL: platform.publicURL))
            let capped = PAMGrant(target: opened.grant.target, federatedUsername: opened.grant.federatedUsername,
                                  expiresAt: min(opened.grant.expiresAt, grantEnd ?? .distantFuture), sourceIdentity: opened.grant.sourceIdentity)
            let recorded = try await sessions.record(orgId: project.orgId, projectId: project.id, resourceType: provider.resourceType, resourceId: account.resourceId,
                                                     accountId: account.id, user: principal, method: method, reason: input.reason ?? grant?.reason, grant: capped,
                                                     request: context.requestInfo, requestId: grant?.id)
            // The grant may have closed while AWS issued the session (its close revoked what was
            // recorded then): revoke this one too and refuse.
            if let grant, let now = try await PAMRequestStore(platform: platform).find(id: grant.id), now.status != "approved" || now.grantClosedAt != nil {
                _ = try await grants.revoke(recorded, actor: .system, why: "the grant closed while access was opened", request: context.requestInfo)
                throw APIError.forbidden("the access request's grant ended while access was being opened")
            }
            return JSONResponse(AccessOutput(sessionId: recorded.id, resourceType: provider.resourceType, consoleUrl: opened.consoleUrl,
                                             credentials: opened.credentials, account: account, metadata: opened.metadata))
        } catch {
            try? await platform.audit.record(AuditEvent("pam-access-failed", orgId: project.orgId, projectId: project.id, actor: principal.auditActor,
                                                        ipAddress: context.clientIP, userAgent: context.userAgent,
                                                        metadata: ["accountId": account.id, "method": method, "reason": (error as? APIError)?.message ?? "error"]))
            throw error
        }
    }

    struct SessionOne: Encodable, Sendable { let session: PAMSession }
    struct SessionMany: Encodable, Sendable { let sessions: [PAMSession] }

    @Sendable func listSessions(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<SessionMany> {
        let (_, project) = try await context.project(platform, id: try request.query("projectId"), .viewer, action: "read PAM sessions")
        return JSONResponse(SessionMany(sessions: try await sessions.list(projectId: project.id)))
    }

    /// Revokes a session for real: the project's admins, or the person it belongs to.
    @Sendable func revokeSession(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<SessionOne> {
        guard let session = try await sessions.find(id: try context.parameter("sessionId")) else { throw APIError.notFound("session not found") }
        let (principal, _) = try await context.project(platform, id: session.projectId, .viewer, action: "revoke PAM sessions")
        let own: Bool = if case .user(let id) = principal.subject { id == session.userId } else { false }
        if !own { _ = try await context.project(platform, id: session.projectId, .admin, action: "revoke another person's PAM session") }
        guard session.status == "active" else { throw APIError.conflict("this session is \(session.status), not active") }
        return JSONResponse(SessionOne(session: try await grants.revoke(session, actor: principal.auditActor, why: own ? "revoked by its person" : "revoked by an admin",
                                                                       request: context.requestInfo)))
    }

    struct NotificationInput: Decodable { let projectId: String; let url: String; let secret: String }
    struct NotificationOut: Encodable, Sendable { let projectId: String; let url: String? }

    @Sendable func setNotifications(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<NotificationOut> {
        let input = try await request.json(NotificationInput.self, context: context)
        let (principal, project) = try await context.project(platform, id: input.projectId, .admin, action: "manage PAM notifications")
        let host = try await Webhook.checkedURL(input.url, egress: settings.webhookEgress).host ?? ""
        guard (16...1024).contains(input.secret.count) else { throw APIError.badRequest("secret must be 16-1024 characters (the HMAC-SHA256 key of X-KMS-Signature)") }
        try await PAMNotifications(platform: platform).set(project: project, url: input.url, secret: input.secret)
        try await platform.audit.record(AuditEvent("pam-notifications-set", orgId: project.orgId, projectId: project.id, actor: principal.auditActor,
                                                   ipAddress: context.clientIP, userAgent: context.userAgent,
                                                   // The URL itself is often the credential (Slack): only its host is recorded.
                                                   metadata: ["host": host]))
        return JSONResponse(NotificationOut(projectId: project.id, url: input.url))
    }

    @Sendable func getNotifications(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<NotificationOut> {
        let (_, project) = try await context.project(platform, id: try request.query("projectId"), .admin, action: "read PAM notifications")
        return JSONResponse(NotificationOut(projectId: project.id, url: try await PAMNotifications(platform: platform).url(projectId: project.id)))
    }

    @Sendable func deleteNotifications(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<NotificationOut> {
        let (principal, project) = try await context.project(platform, id: try request.query("projectId"), .admin, action: "manage PAM notifications")
        try await PAMNotifications(platform: platform).delete(projectId: project.id)
        try await platform.audit.record(AuditEvent("pam-notifications-removed", orgId: project.orgId, projectId: project.id, actor: principal.auditActor,
                                                   ipAddress: context.clientIP, userAgent: context.userAgent))
        return JSONResponse(NotificationOut(projectId: project.id, url: nil))
    }

    @Sendable func getSession(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<SessionOne> {
        guard let session = try await sessions.find(id: try context.parameter("sessionId")) else { throw APIError.notFound("session not found") }
        _ = try await context.project(platform, id: session.projectId, .viewer, action: "read PAM sessions")
        return JSONResponse(SessionOne(session: session))
    }
}
