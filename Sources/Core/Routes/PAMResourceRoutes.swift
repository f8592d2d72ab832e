import Foundation
import Hummingbird

/// The resource and account routes of one PAM provider, under `/api/v1/pam/resources/{type}`
/// and `/api/v1/pam/accounts/{type}`: reading takes the project viewer role, changing the admin
/// role; the provider validates its own fields (and checks them against the cloud) before
/// anything is stored; every change is audited. The plugin registers them for its provider.
public struct PAMResourceRoutes<P: PAMProvider>: Sendable {
    let provider: P
    let platform: Platform
    var store: PAMStore { PAMStore(platform: platform) }

    public init(provider: P, platform: Platform) {
        self.provider = provider
        self.platform = platform
    }

    public func register(_ group: RouterGroup<KMSRequestContext>) {
        let type = provider.resourceType
        group.post(RouterPath("/api/v1/pam/resources/\(type)"), use: createResource)
        group.get(RouterPath("/api/v1/pam/resources/\(type)/{resourceId}"), use: getResource)
        group.patch(RouterPath("/api/v1/pam/resources/\(type)/{resourceId}"), use: updateResource)
        group.delete(RouterPath("/api/v1/pam/resources/\(type)/{resourceId}"), use: deleteResource)
        group.post(RouterPath("/api/v1/pam/accounts/\(type)"), use: createAccount)
        group.patch(RouterPath("/api/v1/pam/accounts/\(type)/{accountId}"), use: updateAccount)
    }

    struct ResourceInput: Decodable { let projectId: String?; let name: String?; let connectionDetails: [String: JSONValue]? }
    struct ResourceOne: Encodable, Sendable { let resource: PAMResource }
    struct AccountInput: Decodable {
        let resourceId: String; let name: String; let description: String?; let credentials: [String: JSONValue]; let accessPolicy: JSONValue?
    }
    struct AccountUpdate: Decodable { let name: String?; let description: String?; let credentials: [String: JSONValue]?; let accessPolicy: JSONValue? }
    struct AccountOne: Encodable, Sendable { let account: PAMAccount }

    func audit(_ event: String, _ principal: Principal, _ project: Project, _ context: KMSRequestContext, _ metadata: [String: String]) async throws {
        try await platform.audit.record(AuditEvent(event, orgId: project.orgId, projectId: project.id, actor: principal.auditActor,
                                                   ipAddress: context.clientIP, userAgent: context.userAgent,
                                                   metadata: metadata.merging(["resourceType": provider.resourceType]) { a, _ in a }))
    }

    /// The resource of the path, of this provider's type, for a caller with `minimum` on its project.
    func resource(_ context: KMSRequestContext, _ minimum: ProjectRole, action: String) async throws -> (Principal, Project, PAMResource) {
        guard let resource = try await store.resource(id: try context.parameter("resourceId"), type: provider.resourceType) else {
            throw APIError.notFound("resource not found")
        }
        let (principal, project) = try await context.project(platform, id: resource.projectId, minimum, action: action)
        return (principal, project, resource)
    }

    @Sendable func createResource(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<ResourceOne> {
        let input = try await request.json(ResourceInput.self, context: context)
        let (principal, project) = try await context.project(platform, id: input.projectId, .admin, action: "manage PAM resources")
        let name = try Validate.name(input.name, field: "name")
        try await provider.authorize(orgId: project.orgId)
        let details = try await provider.validateResource(input.connectionDetails ?? [:], project: project)
        let created = try await store.createResource(project: project, type: provider.resourceType, name: name, details: details)
        try await audit("pam-resource-created", principal, project, context, details.merging(["resourceId": created.id]) { a, _ in a })
        return JSONResponse(ResourceOne(resource: created))
    }

    @Sendable func getResource(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<ResourceOne> {
        JSONResponse(ResourceOne(resource: try await resource(context, .viewer, action: "read PAM resources").2))
    }

    @Sendable func updateResource(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<ResourceOne> {
        let (principal, project, current) = try await resource(context, .admin, action: "manage PAM resources")
        let input = try await request.json(ResourceInput.self, context: context)
        let name = try input.name.map { try Validate.name($0, field: "name") } ?? current.name
        var details = current.connectionDetails
        if let given = input.connectionDetails {
            // Changed details are validated (against the cloud too) as on creation.
            let merged = current.connectionDetails.mapValues(JSONValue.string).merging(given) { _, new in new }
            try await provider.authorize(orgId: project.orgId)
            details = try await provider.validateResource(merged, project: project)
        }
        let updated = try await store.updateResource(current, name: name, details: details)
        try await audit("pam-resource-updated", principal, project, context, details.merging(["resourceId": current.id]) { a, _ in a })
        return JSONResponse(ResourceOne(resource: updated))
    }

    @Sendable func deleteResource(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<ResourceOne> {
        let (principal, project, current) = try await resource(context, .admin, action: "manage PAM resources")
        // Its sessions' revocations are written through it: revoke them first.
        guard try await PAMSessionStore(platform: platform).activeCount(resourceId: current.id, projectId: current.projectId) == 0 else {
            throw APIError.conflict("the resource has active sessions: revoke them first (kms pam sessions revoke)")
        }
        try await store.deleteResource(current)
        try await audit("pam-resource-deleted", principal, project, context, ["resourceId": current.id])
        return JSONResponse(ResourceOne(resource: current))
    }

    @Sendable func createAccount(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<AccountOne> {
        let input = try await request.json(AccountInput.self, context: context)
        guard let resource = try await store.resource(id: input.resourceId, type: provider.resourceType) else { throw APIError.notFound("resource not found") }
        let (principal, project) = try await context.project(platform, id: resource.projectId, .admin, action: "manage PAM accounts")
        let name = try Validate.name(input.name, field: "name")
        let description = try input.description.map { $0.isEmpty ? $0 : try Validate.name($0, field: "description", max: 512) }
        let policy = try await PAMAccessPolicy.validated(input.accessPolicy, current: .open, project: project, platform: platform)
        let settings = try await provider.validateAccount(input.credentials, resource: resource)
        var created = try await store.createAccount(resource: resource, name: name, description: description, details: settings.details,
                                                    sessionDuration: settings.sessionDuration, policy: policy)
        created.warnings = settings.warnings
        try await audit("pam-account-created", principal, project, context,
                        settings.details.merging(["accountId": created.id, "duration": String(settings.sessionDuration),
                                                  "requiresApproval": String(policy.requiresApproval), "approvers": policy.approvers.joined(separator: ",")]) { a, _ in a })
        return JSONResponse(AccountOne(account: created))
    }

    /// Changes an account; changed credentials are validated (against the cloud too) as on creation.
    @Sendable func updateAccount(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<AccountOne> {
        guard let current = try await store.account(id: try context.parameter("accountId"), type: provider.resourceType),
              let resource = try await store.resource(id: current.resourceId, projectId: current.projectId) else { throw APIError.notFound("account not found") }
        let (principal, project) = try await context.project(platform, id: current.projectId, .admin, action: "manage PAM accounts")
        let input = try await request.json(AccountUpdate.self, context: context)
        let name = try input.name.map { try Validate.name($0, field: "name") } ?? current.name
        let description = try input.description.map { $0.isEmpty ? $0 : try Validate.name($0, field: "description", max: 512) } ?? current.description
        let policy = try await PAMAccessPolicy.validated(input.accessPolicy, current: current.accessPolicy, project: project, platform: platform)
        var details = current.details, duration = current.sessionDuration, warnings: [String] = []
        if let given = input.credentials {
            var merged = current.details.mapValues(JSONValue.string)
            merged["defaultSessionDuration"] = .number(Double(current.sessionDuration))
            merged.merge(given) { _, new in new }
            let settings = try await provider.validateAccount(merged, resource: resource)
            (details, duration, warnings) = (settings.details, settings.sessionDuration, settings.warnings)
        }
        var updated = try await store.updateAccount(current, name: name, description: description, details: details, sessionDuration: duration, policy: policy)
        if policy != current.accessPolicy {
            // Relaxing or tightening who approves is its own event, with before and after.
            try await audit("pam-access-policy-changed", principal, project, context,
                            ["accountId": current.id, "before": try PAMStore.encoded(current.accessPolicy), "after": try PAMStore.encoded(policy)])
        }
        updated.warnings = warnings
        try await audit("pam-account-updated", principal, project, context,
                        details.merging(["accountId": current.id, "duration": String(duration), "requiresApproval": String(policy.requiresApproval),
                                         "approvers": policy.approvers.joined(separator: ",")]) { a, _ in a })
        return JSONResponse(AccountOne(account: updated))
    }
}
