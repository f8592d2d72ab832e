import AWSKit
import Core
import Foundation
import Hummingbird

/// PAM resources, accounts, access and sessions (api.md, "PAM AWS Console"). Seeing
/// resources, accounts and sessions takes the project viewer role, changing them the admin
/// role, and access the member role; only signed-in people (not machine identities) get access.
struct PAMRoutes: Sendable {
    let platform: Platform
    let access: ConsoleAccess
    /// The provider, whose `authorize` is the one check of the server's AWS identity.
    var provider: AWSConsolePAMProvider { AWSConsolePAMProvider(platform: platform, access: access) }

    func register(_ group: RouterGroup<KMSRequestContext>) {
        group.post("/api/v1/pam/resources/aws-iam", use: createResource)
        group.get("/api/v1/pam/resources/aws-iam/{resourceId}", use: getResource)
        group.patch("/api/v1/pam/resources/aws-iam/{resourceId}", use: updateResource)
        group.delete("/api/v1/pam/resources/aws-iam/{resourceId}", use: deleteResource)
        group.post("/api/v1/pam/accounts/aws-iam", use: createAccount)
    }

    struct Resource: Encodable, Sendable {
        let id: String, projectId: String, name: String, resourceType: String, connectionDetails: [String: String], createdAt: Date, updatedAt: Date
        init(row: DBRow) throws {
            id = try row.string("id"); projectId = try row.string("project_id"); name = try row.string("name"); resourceType = "aws-iam"
            connectionDetails = ["roleArn": try row.string("role_arn")]; createdAt = try row.date("created_at"); updatedAt = try row.date("updated_at")
        }
    }
    struct Account: Encodable, Sendable {
        let id: String, resourceId: String, projectId: String, name: String, description: String?, targetRoleArn: String, defaultSessionDuration: Int
        let createdAt: Date
        init(row: DBRow) throws {
            id = try row.string("id"); resourceId = try row.string("resource_id"); projectId = try row.string("project_id"); name = try row.string("name")
            description = try row.optionalString("description"); targetRoleArn = try row.string("target_role_arn")
            defaultSessionDuration = Int(try row.int("session_duration")); createdAt = try row.date("created_at")
        }
    }



    static func checkRoleArn(_ arn: String, field: String) throws {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", ["aws", "aws-us-gov", "aws-cn"].contains(parts[1]), parts[2] == "iam", parts[4].count == 12,
              parts[4].allSatisfy(\.isNumber), parts[5].hasPrefix("role/"), parts[5].count > 5 else {
            throw APIError.badRequest("\(field) must be an IAM role ARN such as arn:aws:iam::123456789012:role/name")
        }
    }

    // MARK: Resources

    struct ResourceInput: Decodable { let projectId: String?; let name: String?; let connectionDetails: [String: String]? }
    struct ResourceOne: Encodable, Sendable { let resource: Resource }

    func resource(_ context: KMSRequestContext, _ minimum: ProjectRole, action: String) async throws -> (Principal, Project, Resource) {
        guard let row = try await platform.database.first("SELECT * FROM pam_aws_resources WHERE id = $1", [.text(try context.parameter("resourceId"))]) else {
            throw APIError.notFound("resource not found")
        }
        let resource = try Resource(row: row)
        let (principal, project) = try await context.project(platform, id: resource.projectId, minimum, action: action)
        return (principal, project, resource)
    }

    @Sendable func createResource(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<ResourceOne> {
        let input = try await request.json(ResourceInput.self, context: context)
        let (principal, project) = try await context.project(platform, id: input.projectId, .admin, action: "manage PAM resources")
        let name = try Validate.name(input.name, field: "name")
        guard let roleArn = input.connectionDetails?["roleArn"] else { throw APIError.badRequest("connectionDetails.roleArn is required") }
        try Self.checkRoleArn(roleArn, field: "connectionDetails.roleArn")
        try await provider.authorize(orgId: project.orgId)
        try await access.validateResource(roleArn: roleArn, projectId: project.id)
        let id = SecureRandom.id()
        do {
            try await platform.database.query("INSERT INTO pam_aws_resources (id, org_id, project_id, name, role_arn, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
                                              [.text(id), .text(project.orgId), .text(project.id), .text(name), .text(roleArn), DBValue(platform.clock.now())])
        } catch StorageError.uniqueViolation {
            throw APIError.conflict("a resource named \(name) already exists in this project")
        }
        try await platform.audit.record(AuditEvent("pam-resource-created", orgId: project.orgId, projectId: project.id, actor: principal.auditActor,
                                                   ipAddress: context.clientIP, userAgent: context.userAgent, metadata: ["resourceId": id, "roleArn": roleArn]))
        let row = try await platform.database.first("SELECT * FROM pam_aws_resources WHERE id = $1", [.text(id)])
        return JSONResponse(ResourceOne(resource: try Resource(row: row!)))
    }

    @Sendable func getResource(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<ResourceOne> {
        JSONResponse(ResourceOne(resource: try await resource(context, .viewer, action: "read PAM resources").2))
    }

    @Sendable func updateResource(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<ResourceOne> {
        let (principal, project, current) = try await resource(context, .admin, action: "manage PAM resources")
        let input = try await request.json(ResourceInput.self, context: context)
        let name = try input.name.map { try Validate.name($0, field: "name") } ?? current.name
        let roleArn = input.connectionDetails?["roleArn"] ?? current.connectionDetails["roleArn"] ?? ""
        if roleArn != current.connectionDetails["roleArn"] {
            try Self.checkRoleArn(roleArn, field: "connectionDetails.roleArn")
            try await provider.authorize(orgId: project.orgId)
            try await access.validateResource(roleArn: roleArn, projectId: project.id)
        }
        try await platform.database.query("UPDATE pam_aws_resources SET name = $2, role_arn = $3, updated_at = $4 WHERE id = $1",
                                          [.text(current.id), .text(name), .text(roleArn), DBValue(platform.clock.now())])
        try await platform.audit.record(AuditEvent("pam-resource-updated", orgId: project.orgId, projectId: project.id, actor: principal.auditActor,
                                                   ipAddress: context.clientIP, userAgent: context.userAgent, metadata: ["resourceId": current.id, "roleArn": roleArn]))
        let row = try await platform.database.first("SELECT * FROM pam_aws_resources WHERE id = $1", [.text(current.id)])
        return JSONResponse(ResourceOne(resource: try Resource(row: row!)))
    }

    @Sendable func deleteResource(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<ResourceOne> {
        let (principal, project, current) = try await resource(context, .admin, action: "manage PAM resources")
        try await platform.database.query("DELETE FROM pam_aws_resources WHERE id = $1", [.text(current.id)])
        try await platform.audit.record(AuditEvent("pam-resource-deleted", orgId: project.orgId, projectId: project.id, actor: principal.auditActor,
                                                   ipAddress: context.clientIP, userAgent: context.userAgent, metadata: ["resourceId": current.id]))
        return JSONResponse(ResourceOne(resource: current))
    }

    // MARK: Accounts

    struct AccountCredentials: Decodable { let targetRoleArn: String; let defaultSessionDuration: JSONValue? }
    struct AccountInput: Decodable { let resourceId: String; let name: String; let description: String?; let credentials: AccountCredentials }
    struct AccountOne: Encodable, Sendable { let account: Account }

    @Sendable func createAccount(_ request: Request, context: KMSRequestContext) async throws -> JSONResponse<AccountOne> {
        let input = try await request.json(AccountInput.self, context: context)
        guard let row = try await platform.database.first("SELECT * FROM pam_aws_resources WHERE id = $1", [.text(input.resourceId)]) else {
            throw APIError.notFound("resource not found")
        }
        let resource = try Resource(row: row)
        let (principal, project) = try await context.project(platform, id: resource.projectId, .admin, action: "manage PAM accounts")
        let name = try Validate.name(input.name, field: "name")
        try Self.checkRoleArn(input.credentials.targetRoleArn, field: "credentials.targetRoleArn")
        let duration = try DurationParser.seconds(input.credentials.defaultSessionDuration, field: "defaultSessionDuration") ?? 3600
        guard (900...3600).contains(duration) else { throw APIError.badRequest("defaultSessionDuration must be between 15 minutes and 1 hour (900-3600 s)") }
        let id = SecureRandom.id()
        do {
            try await platform.database.query("""
                INSERT INTO pam_aws_accounts (id, org_id, project_id, resource_id, name, description, target_role_arn, session_duration, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
                """, [.text(id), .text(project.orgId), .text(project.id), .text(resource.id), .text(name), DBValue(input.description),
                      .text(input.credentials.targetRoleArn), .int(Int64(duration)), DBValue(platform.clock.now())])
        } catch StorageError.uniqueViolation {
            throw APIError.conflict("an account named \(name) already exists on this resource")
        }
        try await platform.audit.record(AuditEvent("pam-account-created", orgId: project.orgId, projectId: project.id, actor: principal.auditActor,
                                                   ipAddress: context.clientIP, userAgent: context.userAgent,
                                                   metadata: ["accountId": id, "targetRoleArn": input.credentials.targetRoleArn, "duration": String(duration)]))
        let created = try await platform.database.first("SELECT * FROM pam_aws_accounts WHERE id = $1", [.text(id)])
        return JSONResponse(AccountOne(account: try Account(row: created!)))
    }
}
