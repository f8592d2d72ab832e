import Foundation
import Hummingbird

/// Just-in-time access (api.md, "PAM"): people ask for access to an account that needs
/// approval; listed approvers review (never their own request); an approval grants access from
/// then for the asked duration; the requester may cancel, which ends an open grant for real.
public struct PAMRequestRoutes: Sendable {
    let platform: Platform
    let grants: PAMGrants
    let notifier: PAMNotifications
    var requests: PAMRequestStore { PAMRequestStore(platform: platform) }

    public init(platform: Platform, providers: ProviderRegistry, settings: PAMSettings) {
        self.platform = platform
        grants = PAMGrants(platform: platform, providers: providers, settings: settings)
        notifier = PAMNotifications(platform: platform)
    }

    public func register(authenticated group: RouterGroup<KMSRequestContext>) {
        group.post("/api/v1/pam/access-requests", use: create)
        group.get("/api/v1/pam/access-requests", use: list)
        group.get("/api/v1/pam/access-requests/{requestId}", use: get)
        group.post("/api/v1/pam/access-requests/{requestId}/review", use: review)
        group.post("/api/v1/pam/access-requests/{requestId}/cancel", use: cancel)
    }

    struct CreateInput: Decodable { let projectId: String; let accountId: String; let duration: JSONValue?; let reason: String? }
    struct ReviewInput: Decodable { let decision: String; let comment: String? }
    struct One: Encodable, Sendable { let accessRequest: PAMAccessRequestRecord }
    struct Many: Encodable, Sendable { let accessRequests: [PAMAccessRequestRecord] }

    /// The signed-in person behind a request (machine identities neither ask nor review).
    static func person(_ principal: Principal) throws -> (id: String, email: String) {
        guard case .user(let id) = principal.subject, let email = principal.email else {
            throw APIError.forbidden("access requests are for signed-in people")
        }
        return (id, email.lowercased())
    }

    func audit(_ event: String, _ principal: Principal, _ r: PAMAccessRequestRecord, _ context: KMSRequestContext, _ extra: [String: String] = [:]) async throws {
        try await platform.audit.record(AuditEvent(event, orgId: r.orgId, projectId: r.projectId, actor: principal.auditActor, ipAddress: context.clientIP,
                                                   userAgent: context.userAgent,
                                                   metadata: extra.merging(["requestId": r.id, "accountId": r.accountId, "requester": r.requester.email,
                                                                            "status": r.status, "duration": String(r.duration)]) { a, _ in a }))
    }

    @Sendable func create(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let input = try await request.json(CreateInput.self, context: context)
        let (principal, project) = try await context.project(platform, id: input.projectId, .member, action: "request PAM access")
        let person = try Self.person(principal)
        guard let account = try await PAMStore(platform: platform).account(id: input.accountId, projectId: project.id) else { throw APIError.notFound("account not found") }
        let policy = account.accessPolicy
        guard policy.requiresApproval else { throw APIError.badRequest("this account needs no approval: open access directly") }
        let duration = try DurationParser.seconds(input.duration, field: "duration") ?? min(account.sessionDuration, policy.maxDuration)
        guard (5...policy.maxDuration).contains(duration) else { throw APIError.badRequest("duration must be 5-\(policy.maxDuration) seconds for this account") }
        let reason = try input.reason.flatMap { $0.isEmpty ? nil : try Validate.name($0, field: "reason", max: 1000) }
        if policy.requireReason, reason == nil { throw APIError.badRequest("this account requires a reason") }
        let created = try await requests.create(account: account, requesterId: person.id, email: person.email, duration: duration, reason: reason)
        try await audit("pam-access-requested", principal, created, context, ["reason": reason ?? ""])
        try await notifier.enqueue(created, event: "created", account: account)
        return JSONResponse(One(accessRequest: created))
    }

    @Sendable func list(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<Many> {
        let (_, project) = try await context.project(platform, id: try request.query("projectId"), .viewer, action: "read PAM access requests")
        let status = request.optionalQuery("status")
        if let status, !["pending", "approved", "denied", "expired", "cancelled"].contains(status) {
            throw APIError.badRequest("status must be pending, approved, denied, expired or cancelled")
        }
        return JSONResponse(Many(accessRequests: try await requests.list(projectId: project.id, status: status)))
    }

    func scoped(_ context: KMSRequestContext, _ minimum: ProjectRole, action: String) async throws -> (Principal, PAMAccessRequestRecord) {
        guard let found = try await requests.find(id: try context.parameter("requestId")) else { throw APIError.notFound("access request not found") }
        let (principal, _) = try await context.project(platform, id: found.projectId, minimum, action: action)
        return (principal, found)
    }

    @Sendable func get(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        JSONResponse(One(accessRequest: try await scoped(context, .viewer, action: "read PAM access requests").1))
    }

    @Sendable func review(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (principal, found) = try await scoped(context, .viewer, action: "review PAM access requests")
        let person = try Self.person(principal)
        let input = try await request.json(ReviewInput.self, context: context)
        guard ["approve", "deny"].contains(input.decision) else { throw APIError.badRequest("decision must be approve or deny") }
        let comment = try input.comment.flatMap { $0.isEmpty ? nil : try Validate.name($0, field: "comment", max: 1000) }
        guard person.id != found.requester.id else {
            try? await audit("pam-access-review-refused", principal, found, context, ["why": "self-review"])
            throw APIError.forbidden("you cannot review your own access request")
        }
        guard let account = try await PAMStore(platform: platform).account(id: found.accountId, projectId: found.projectId) else { throw APIError.notFound("account not found") }
        guard account.accessPolicy.approvers.contains(person.email) else {
            try? await audit("pam-access-review-refused", principal, found, context, ["why": "not an approver"])
            throw APIError.forbidden("you are not an approver of this account")
        }
        guard found.status == "pending", found.pendingUntil > platform.clock.now() else { throw APIError.conflict("this request is \(found.status), not pending") }
        guard try await requests.addReview(requestId: found.id, reviewerId: person.id, email: person.email, decision: input.decision, comment: comment) else {
            throw APIError.conflict("you already reviewed this request")
        }
        var event = "pam-access-request-reviewed"
        if input.decision == "deny" {
            if try await requests.decide(id: found.id, approved: false, duration: found.duration) { event = "pam-access-request-denied" }
        } else if try await requests.approvals(requestId: found.id, approvers: account.accessPolicy.approvers) >= account.accessPolicy.minApprovals {
            if try await requests.decide(id: found.id, approved: true, duration: found.duration) { event = "pam-access-request-approved" }
        }
        let updated = try await requests.find(id: found.id) ?? found
        try await audit(event, principal, updated, context, ["decision": input.decision, "comment": comment ?? ""])
        if updated.status != "pending", updated.status != found.status {
            try await notifier.enqueue(updated, event: updated.status, account: account)
        }
        return JSONResponse(One(accessRequest: updated))
    }

    @Sendable func cancel(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (principal, found) = try await scoped(context, .viewer, action: "cancel PAM access requests")
        let person = try Self.person(principal)
        guard person.id == found.requester.id else { throw APIError.forbidden("only the requester may cancel an access request") }
        let wasGranted = found.status == "approved"
        guard try await requests.cancel(id: found.id) else { throw APIError.conflict("this request is \(found.status) and can no longer be cancelled") }
        let updated = try await requests.find(id: found.id) ?? found
        try await audit("pam-access-request-cancelled", principal, updated, context)
        // Cancelling an open grant ends its sessions for real.
        if wasGranted { try await grants.closeGrant(updated, actor: principal.auditActor, why: "cancelled by the requester") }
        return JSONResponse(One(accessRequest: updated))
    }
}
