import Foundation
import Hummingbird

/// Dynamic secrets and their leases, generic over the installed providers (api.md, "Dynamic
/// secrets"). Reading a config takes the viewer role, changing one the admin role, and leases
/// the member role in the project.
public struct DynamicSecretRoutes: Sendable {
    let platform: Platform
    let engine: LeaseEngine
    let store: DynamicSecretStore

    public init(platform: Platform, providers: ProviderRegistry) {
        self.platform = platform
        self.engine = LeaseEngine(platform: platform, providers: providers)
        store = DynamicSecretStore(platform: platform)
    }

    public func register(authenticated group: RouterGroup<KMSRequestContext>) {
        group.post("/api/v1/dynamic-secrets", use: create)
        group.get("/api/v1/dynamic-secrets", use: list)
        group.post("/api/v1/dynamic-secrets/leases", use: createLease)
        group.post("/api/v1/dynamic-secrets/leases/{leaseId}/renew", use: renewLease)
        group.delete("/api/v1/dynamic-secrets/leases/{leaseId}", use: revokeLease)
        group.get("/api/v1/dynamic-secrets/leases/{leaseId}", use: getLease)
        group.get("/api/v1/dynamic-secrets/{name}", use: get)
        group.patch("/api/v1/dynamic-secrets/{name}", use: update)
        group.delete("/api/v1/dynamic-secrets/{name}", use: delete)
        group.get("/api/v1/dynamic-secrets/{name}/leases", use: listLeases)
    }

    // MARK: Scope

    /// Resolves project, environment and path in the caller's organization and checks the role.
    func scope(_ context: KMSRequestContext, projectSlug: String?, environmentSlug: String?, path: String?, _ minimum: ProjectRole,
               action: String) async throws -> (Principal, SecretScope) {
        let principal = try context.requirePrincipal()
        guard let projectSlug, !projectSlug.isEmpty else { throw APIError.badRequest("projectSlug is required") }
        guard let environmentSlug, !environmentSlug.isEmpty else { throw APIError.badRequest("environmentSlug is required") }
        let path = try Self.normalize(path ?? "/")
        guard let project = try await platform.projects.find(slug: projectSlug, orgId: principal.orgId) else { throw APIError.notFound("project not found") }
        try await platform.authorizer.requireProject(principal, project: project, minimum, action: action, request: context.requestInfo)
        guard let environment = project.environments.first(where: { $0.slug == environmentSlug }) else { throw APIError.notFound("environment \(environmentSlug) not found") }
        return (principal, SecretScope(project: project, environment: environment, path: path))
    }

    static func normalize(_ path: String) throws -> String {
        guard path.hasPrefix("/"), path.count <= 256, !path.contains("//"), !path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }),
              path.allSatisfy({ $0.isLetter || $0.isNumber || "/-_.".contains($0) }) else {
            throw APIError.badRequest("path must be an absolute folder path such as / or /team/app")
        }
        return path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    func secret(_ scope: SecretScope, name: String) async throws -> DynamicSecretRecord {
        guard let found = try await store.find(scope, name: name) else { throw APIError.notFound("dynamic secret \(name) not found") }
        return found
    }

    // MARK: Configs

    struct ProviderInput: Decodable { let type: String; let inputs: JSONValue }
    struct CreateInput: Decodable {
        let name: String
        let projectSlug: String?
        let environmentSlug: String?
        let path: String?
        let defaultTTL: JSONValue?
        let maxTTL: JSONValue?
        let provider: ProviderInput
    }
    struct One: Encodable, Sendable { let dynamicSecret: DynamicSecretRecord }
    struct Many: Encodable, Sendable { let dynamicSecrets: [DynamicSecretRecord] }

    static func ttls(defaultTTL: JSONValue?, maxTTL: JSONValue?, current: (Int, Int)? = nil) throws -> (Int, Int) {
        let d = try DurationParser.seconds(defaultTTL, field: "defaultTTL") ?? current?.0 ?? 3600
        let m = try DurationParser.seconds(maxTTL, field: "maxTTL") ?? current?.1 ?? 86400
        guard d > 0, m > 0 else { throw APIError.badRequest("defaultTTL and maxTTL must be positive") }
        guard d <= m else { throw APIError.badRequest("defaultTTL must not exceed maxTTL") }
        return (d, m)
    }

    @Sendable func create(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let input = try await request.json(CreateInput.self, context: context)
        let (principal, scope) = try await scope(context, projectSlug: input.projectSlug, environmentSlug: input.environmentSlug, path: input.path,
                                                 .admin, action: "manage dynamic secrets")
        let name = try Validate.slug(input.name, field: "name")
        let (d, m) = try Self.ttls(defaultTTL: input.defaultTTL, maxTTL: input.maxTTL)
        guard let provider = engine.providers.dynamicSecretProvider(input.provider.type) else {
            throw APIError.badRequest("provider.type must be one of the installed providers")
        }
        let (publicInputs, secretInputs) = try await provider.validate(inputs: input.provider.inputs, projectId: scope.project.id)
        let id = SecureRandom.id()
        try await store.insert(id: id, scope: scope, name: name, type: provider.type, ttls: (d, m), inputs: publicInputs.text,
                               sealedInputs: try platform.sealer.seal(secretInputs.text, context: "dynamic-secret/\(id)"))
        try await platform.audit.record(AuditEvent("dynamic-secret-created", orgId: scope.project.orgId, projectId: scope.project.id, actor: principal.auditActor,
                                                   ipAddress: context.clientIP, userAgent: context.userAgent,
                                                   metadata: ["dynamicSecretId": id, "name": name, "type": provider.type, "environment": scope.environment.slug, "path": scope.path]))
        return JSONResponse(One(dynamicSecret: try await secret(scope, name: name)))
    }

    @Sendable func get(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let (_, scope) = try await scope(context, projectSlug: request.optionalQuery("projectSlug"), environmentSlug: request.optionalQuery("environmentSlug"),
                                         path: request.optionalQuery("path"), .viewer, action: "read dynamic secrets")
        return JSONResponse(One(dynamicSecret: try await secret(scope, name: try context.parameter("name"))))
    }

    @Sendable func list(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<Many> {
        let (_, scope) = try await scope(context, projectSlug: request.optionalQuery("projectSlug"), environmentSlug: request.optionalQuery("environmentSlug"),
                                         path: request.optionalQuery("path"), .viewer, action: "read dynamic secrets")
        return JSONResponse(Many(dynamicSecrets: try await store.list(scope)))
    }

    struct UpdateData: Decodable { let inputs: JSONValue?; let defaultTTL: JSONValue?; let maxTTL: JSONValue?; let newName: String? }
    struct UpdateInput: Decodable { let projectSlug: String?; let environmentSlug: String?; let path: String?; let data: UpdateData }

    @Sendable func update(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let input = try await request.json(UpdateInput.self, context: context)
        let (principal, scope) = try await scope(context, projectSlug: input.projectSlug, environmentSlug: input.environmentSlug, path: input.path,
                                                 .admin, action: "manage dynamic secrets")
        let current = try await secret(scope, name: try context.parameter("name"))
        let (d, m) = try Self.ttls(defaultTTL: input.data.defaultTTL, maxTTL: input.data.maxTTL, current: (current.defaultSeconds, current.maxSeconds))
        let newName = try input.data.newName.map { try Validate.slug($0, field: "newName") } ?? current.name
        var publicText = current.inputs.text
        var sealed = current.sealedInputs
        if let inputs = input.data.inputs {
            let (p, s) = try await engine.provider(current.type).validate(inputs: inputs, projectId: scope.project.id)
            publicText = p.text
            sealed = try platform.sealer.seal(s.text, context: "dynamic-secret/\(current.id)")
        }
        try await store.update(id: current.id, name: newName, ttls: (d, m), inputs: publicText, sealedInputs: sealed)
        try await platform.audit.record(AuditEvent("dynamic-secret-updated", orgId: scope.project.orgId, projectId: scope.project.id, actor: principal.auditActor,
                                                   ipAddress: context.clientIP, userAgent: context.userAgent,
                                                   metadata: ["dynamicSecretId": current.id, "name": newName, "inputsChanged": String(input.data.inputs != nil)]))
        return JSONResponse(One(dynamicSecret: try await secret(scope, name: newName)))
    }

    struct DeleteInput: Decodable { let projectSlug: String?; let environmentSlug: String?; let path: String?; let isForced: Bool? }

    /// Deletes a config after revoking its live leases (with `isForced`, even if revocation fails).
    @Sendable func delete(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<One> {
        let input = try await request.json(DeleteInput.self, context: context)
        let (principal, scope) = try await scope(context, projectSlug: input.projectSlug, environmentSlug: input.environmentSlug, path: input.path,
                                                 .admin, action: "manage dynamic secrets")
        let current = try await secret(scope, name: try context.parameter("name"))
        // A lease still being created is undone by its own create once the secret is gone (or
        // by the reaper, if that create was interrupted); one that finishes meanwhile is made
        // due by the delete.
        let live = try await store.liveLeases(secretId: current.id).filter { $0.status != LeaseStatus.creating.rawValue }
        for lease in live {
            _ = try await engine.revoke(lease: lease, secret: current, force: input.isForced ?? false,
                                        actor: principal.auditActor, request: context.requestInfo)
        }
        let due = try await store.delete(id: current.id)
        try await platform.audit.record(AuditEvent("dynamic-secret-deleted", orgId: scope.project.orgId, projectId: scope.project.id, actor: principal.auditActor,
                                                   ipAddress: context.clientIP, userAgent: context.userAgent,
                                                   metadata: ["dynamicSecretId": current.id, "name": current.name, "leasesRevoked": String(live.count),
                                                              "leasesDue": String(due)]))
        return JSONResponse(One(dynamicSecret: current))
    }

    // MARK: Leases

    struct LeaseInput: Decodable { let dynamicSecretName: String; let projectSlug: String?; let environmentSlug: String?; let path: String?; let ttl: JSONValue? }
    struct LeaseCreated: Encodable, Sendable { let lease: LeaseRecord; let dynamicSecret: DynamicSecretRecord; let data: [String: String] }
    struct LeaseOne: Encodable, Sendable { let lease: LeaseRecord }
    struct LeaseMany: Encodable, Sendable { let leases: [LeaseRecord] }

    @Sendable func createLease(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<LeaseCreated> {
        let input = try await request.json(LeaseInput.self, context: context)
        let (principal, scope) = try await scope(context, projectSlug: input.projectSlug, environmentSlug: input.environmentSlug, path: input.path,
                                                 .member, action: "create leases")
        let secret = try await secret(scope, name: input.dynamicSecretName)
        let (lease, data) = try await engine.create(secret: secret, ttl: try DurationParser.seconds(input.ttl, field: "ttl"),
                                                    actor: principal.auditActor, request: context.requestInfo)
        return JSONResponse(LeaseCreated(lease: lease, dynamicSecret: secret, data: data))
    }

    /// The lease of the path, within the caller's scope; another project's lease is a 404.
    func lease(_ context: KMSRequestContext, scope: SecretScope) async throws -> (LeaseRecord, DynamicSecretRecord) {
        guard let lease = try await engine.lease(id: try context.parameter("leaseId")), lease.projectId == scope.project.id,
              let secret = try await store.find(id: lease.dynamicSecretId, in: scope) else {
            throw APIError.notFound("lease not found")
        }
        return (lease, secret)
    }

    struct RenewInput: Decodable { let projectSlug: String?; let environmentSlug: String?; let path: String?; let ttl: JSONValue? }

    @Sendable func renewLease(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<LeaseOne> {
        let input = try await request.json(RenewInput.self, context: context)
        let (principal, scope) = try await scope(context, projectSlug: input.projectSlug, environmentSlug: input.environmentSlug, path: input.path,
                                                 .member, action: "renew leases")
        let (lease, secret) = try await lease(context, scope: scope)
        return JSONResponse(LeaseOne(lease: try await engine.renew(lease: lease, secret: secret, ttl: try DurationParser.seconds(input.ttl, field: "ttl"),
                                                                   actor: principal.auditActor, request: context.requestInfo)))
    }

    @Sendable func revokeLease(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<LeaseOne> {
        let input = try await request.json(DeleteInput.self, context: context)
        let (principal, scope) = try await scope(context, projectSlug: input.projectSlug, environmentSlug: input.environmentSlug, path: input.path,
                                                 .member, action: "revoke leases")
        let (lease, secret) = try await lease(context, scope: scope)
        return JSONResponse(LeaseOne(lease: try await engine.revoke(lease: lease, secret: secret, force: input.isForced ?? false,
                                                                    actor: principal.auditActor, request: context.requestInfo)))
    }

    @Sendable func getLease(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<LeaseOne> {
        let (_, scope) = try await scope(context, projectSlug: request.optionalQuery("projectSlug"), environmentSlug: request.optionalQuery("environmentSlug"),
                                         path: request.optionalQuery("path"), .viewer, action: "read leases")
        return JSONResponse(LeaseOne(lease: try await lease(context, scope: scope).0))
    }

    @Sendable func listLeases(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<LeaseMany> {
        let (_, scope) = try await scope(context, projectSlug: request.optionalQuery("projectSlug"), environmentSlug: request.optionalQuery("environmentSlug"),
                                         path: request.optionalQuery("path"), .viewer, action: "read leases")
        let secret = try await secret(scope, name: try context.parameter("name"))
        return JSONResponse(LeaseMany(leases: try await store.leases(secretId: secret.id)))
    }
}
