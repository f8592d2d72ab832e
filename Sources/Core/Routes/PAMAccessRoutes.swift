import Foundation
import Hummingbird

/// What every PAM provider shares (api.md, "PAM"): opening access on an account, which takes the
/// project member role and a signed-in person, and the sessions, which take the viewer role.
public struct PAMAccessRoutes: Sendable {
    let platform: Platform
    let providers: ProviderRegistry
    var sessions: PAMSessionStore { PAMSessionStore(platform: platform) }

    public init(platform: Platform, providers: ProviderRegistry) {
        self.platform = platform
        self.providers = providers
    }

    public func register(authenticated group: RouterGroup<KMSRequestContext>) {
        group.post("/api/v1/pam/accounts/access", use: access)
        group.get("/api/v1/pam/sessions", use: listSessions)
        group.get("/api/v1/pam/sessions/{sessionId}", use: getSession)
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
        try await provider.authorize(orgId: project.orgId)
        do {
            let opened = try await provider.openAccess(PAMAccessRequest(resource: resource, account: account, orgId: project.orgId, projectId: project.id, email: email,
                                                                        method: method, publicURL: platform.publicURL))
            let recorded = try await sessions.record(orgId: project.orgId, projectId: project.id, resourceType: provider.resourceType, resourceId: account.resourceId,
                                                     accountId: account.id, user: principal, method: method, reason: input.reason, grant: opened.grant,
                                                     request: context.requestInfo)
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

    @Sendable func getSession(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<SessionOne> {
        guard let session = try await sessions.find(id: try context.parameter("sessionId")) else { throw APIError.notFound("session not found") }
        _ = try await context.project(platform, id: session.projectId, .viewer, action: "read PAM sessions")
        return JSONResponse(SessionOne(session: session))
    }
}
