import AWSKit
import AsyncHTTPClient
import Core
import Foundation

/// The `aws-iam` dynamic-secret provider: IAM users with their groups and policies, or
/// temporary STS credentials, through an access-key, assume-role or IRSA connection.
struct AWSIAMProvider: DynamicSecretProvider {
    let query: AWSQueryClient
    let environment: [String: String]
    /// The server's own credentials (the operator's), which assume tenant roles.
    let serverCredentials: any AWSCredentialProvider
    /// Which organizations may act through the server's own AWS identity.
    let ambient: AmbientAWSPolicy
    let tenants: TenantStore
    let projects: ProjectStore
    let type = "aws-iam"

    static let ownerTag = ("managed-by", "kms")

    init(query: AWSQueryClient, environment: [String: String], platform: Platform) {
        self.query = query
        self.environment = environment
        ambient = platform.ambientAWS
        tenants = platform.tenants
        projects = platform.projects
        serverCredentials = DefaultCredentialChain.server(keyIdVariable: "KMS_DYNAMIC_SECRET_AWS_ACCESS_KEY_ID",
                                                          secretVariable: "KMS_DYNAMIC_SECRET_AWS_SECRET_ACCESS_KEY", environment: environment, query: query)
    }

    /// The operator's credentials that assume the tenant's role: the IRSA web identity for
    /// `irsa`, the server's key or default chain for `assume-role`.
    func assumer(_ inputs: AWSIAMInputs, projectId: String) throws -> any AWSCredentialProvider {
        guard inputs.method == .irsa else { return serverCredentials }
        guard let serverRole = environment["AWS_ROLE_ARN"], let file = environment["AWS_WEB_IDENTITY_TOKEN_FILE"] else {
            throw APIError.badRequest("irsa needs AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE on the server (an IRSA service account)")
        }
        return WebIdentityCredentialProvider(roleArn: serverRole, tokenFile: file, sessionName: "kms-\(projectId.prefix(32))", query: query, region: inputs.region)
    }

    /// Refuses a connection through the server's own identity for organizations the operator
    /// has not allowed. Access-key connections carry the tenant's own key and need no allowance.
    func requireAllowed(_ inputs: AWSIAMInputs, orgId: String) async throws {
        guard inputs.method != .accessKey else { return }
        try await ambient.require(orgId: orgId, tenants: tenants, use: "the \(inputs.method.rawValue) method")
    }

    /// The credentials that act on AWS for this configuration: the tenant's key, or the
    /// tenant's role assumed by the operator's identity with ExternalId = project id (so a role
    /// trusting this server cannot be used from another project).
    func connection(_ inputs: AWSIAMInputs, projectId: String) async throws -> AWSCredentials {
        switch inputs.method {
        case .accessKey:
            return AWSCredentials(accessKeyId: inputs.accessKey ?? "", secretAccessKey: inputs.secretAccessKey ?? "")
        case .irsa where inputs.roleArn == nil:
            // Only leases made before tenant roles were required reach here, to be cleaned up
            // with the identity that made them.
            return try await assumer(inputs, projectId: projectId).credentials()
        case .assumeRole, .irsa:
            let sts = STSClient(query: query, region: inputs.region, credentials: try assumer(inputs, projectId: projectId))
            return try await sts.assumeRole(roleArn: inputs.roleArn ?? "", sessionName: "kms-\(projectId.prefix(32))", externalId: projectId,
                                            durationSeconds: 900).credentials
        }
    }

    /// Maps AWS failures: a refusal is the configuration's fault (400), anything else is upstream (502).
    static func mapped(_ error: any Error, doing what: String) -> any Error {
        guard let aws = error as? AWSError else { return error }
        switch aws {
        case .service(let code, let message, _, let status) where (400..<500).contains(status) && !aws.isRetryable:
            return APIError.badRequest("AWS refused to \(what): \(code): \(message)")
        case .credentials(let m): return APIError.badRequest("no AWS credentials to \(what): \(m)")
        default: return APIError.badGateway("AWS failed to \(what): \(aws)")
        }
    }

    func validate(inputs json: JSONValue, projectId: String) async throws -> (public: JSONValue, secret: JSONValue) {
        let inputs = try AWSIAMInputs(json)
        guard let project = try await projects.find(id: projectId) else { throw APIError.notFound("project not found") }
        try await requireAllowed(inputs, orgId: project.orgId)
        do {
            let creds = try await connection(inputs, projectId: projectId)
            _ = try await STSClient(query: query, region: inputs.region, credentials: StaticCredentialProvider(creds)).getCallerIdentity()
        } catch {
            throw Self.mapped(error, doing: "validate the \(inputs.method.rawValue) connection")
        }
        return (inputs.publicJSON, inputs.secretJSON)
    }

    func authorize(config: DynamicSecretConfig) async throws {
        try await requireAllowed(try AWSIAMInputs(config.inputs), orgId: config.orgId)
    }

    /// A definitive AWS refusal of the first call of a create: nothing exists to clean up.
    static func nothingCreated(_ error: any Error, doing what: String) -> any Error {
        if let aws = error as? AWSError, case .service = aws, !aws.isRetryable { return NothingCreated(mapped(error, doing: what)) }
        if error is APIError { return NothingCreated(error) }
        return mapped(error, doing: what)
    }

    func plannedEntityId(config: DynamicSecretConfig, leaseId: String) throws -> String {
        let inputs = try AWSIAMInputs(config.inputs)
        return inputs.credentialType == .iamUser ? try inputs.username(leaseId: leaseId, now: Date()) : "kms-\(leaseId.prefix(32))"
    }

    func canRenew(config: DynamicSecretConfig) -> Bool {
        (try? AWSIAMInputs(config.inputs, forRevocation: true).credentialType) == .iamUser
    }

    func create(config: DynamicSecretConfig, entityId: String, leaseId: String, ttl: Int) async throws -> DynamicSecretEntity {
        let inputs = try AWSIAMInputs(config.inputs)
        if inputs.credentialType == .temporaryCredentials, inputs.method != .accessKey {
            // The lease is the tenant role's session itself, scoped by the session policies.
            do {
                    let sts = STSClient(query: query, region: inputs.region, credentials: try assumer(inputs, projectId: config.projectId))
                    // AssumeRole allows at most an hour (role chaining); the clamp shows in the lease's expiry.
                    let duration = min(max(ttl, 900), 3600)
                    let assumed = try await sts.assumeRole(roleArn: inputs.roleArn ?? "", sessionName: entityId, externalId: config.projectId,
                                                           durationSeconds: duration, policy: inputs.policyDocument, policyArns: inputs.policyArns,
                                                           tags: inputs.tags)
                    return DynamicSecretEntity(externalEntityId: entityId, data: Self.data(assumed.credentials),
                                               expiresAt: assumed.credentials.expiration ?? Date().addingTimeInterval(TimeInterval(duration)))
            } catch {
                throw Self.nothingCreated(error, doing: "assume the role for temporary credentials")
            }
        }
        let creds: AWSCredentials
        do { creds = try await connection(inputs, projectId: config.projectId) } catch { throw Self.nothingCreated(error, doing: "connect") }
        switch inputs.credentialType {
        case .iamUser:
            return try await createUser(inputs, creds: creds, name: entityId, leaseId: leaseId)
        case .temporaryCredentials:
            let sts = STSClient(query: query, region: inputs.region, credentials: StaticCredentialProvider(creds))
            do {
                let duration = min(max(ttl, 900), 43200)
                let session = try await sts.getSessionToken(durationSeconds: duration)
                return DynamicSecretEntity(externalEntityId: entityId, data: Self.data(session),
                                           expiresAt: session.expiration ?? Date().addingTimeInterval(TimeInterval(duration)))
            } catch {
                throw Self.nothingCreated(error, doing: "issue temporary credentials")
            }
        }
    }

    static func data(_ c: AWSCredentials) -> [String: String] {
        ["ACCESS_KEY": c.accessKeyId, "SECRET_ACCESS_KEY": c.secretAccessKey, "SESSION_TOKEN": c.sessionToken ?? ""]
    }

    /// Creates the user with everything the inputs ask for; any failure deletes what was made.
    func createUser(_ inputs: AWSIAMInputs, creds: AWSCredentials, name: String, leaseId: String) async throws -> DynamicSecretEntity {
        let iam = IAMClient(query: query, region: inputs.region, credentials: StaticCredentialProvider(creds))
        let tags = inputs.tags + [Self.ownerTag, ("kms-lease-id", leaseId)]
        do {
            _ = try await iam.createUser(name: name, path: inputs.awsPath, permissionsBoundary: inputs.permissionBoundaryPolicyArn, tags: tags)
        } catch {
            throw Self.nothingCreated(error, doing: "create the IAM user")
        }
        do {
            for group in inputs.userGroups { try await iam.addUserToGroup(user: name, group: group) }
            for arn in inputs.policyArns { try await iam.attachUserPolicy(user: name, policyArn: arn) }
            if let document = inputs.policyDocument { try await iam.putUserPolicy(user: name, name: "kms-inline", document: document) }
            let key = try await iam.createAccessKey(user: name)
            return DynamicSecretEntity(externalEntityId: name, data: ["ACCESS_KEY": key.accessKeyId, "SECRET_ACCESS_KEY": key.secretAccessKey, "USERNAME": name],
                                       revocationState: [Self.accessKeyIdState: key.accessKeyId])
        } catch {
            try? await Self.deleteUser(iam, name: name)
            throw Self.mapped(error, doing: "set up the IAM user")
        }
    }

    /// The revocation state's entry naming the access key kms made (an id, not a secret).
    static let accessKeyIdState = "accessKeyId"

    func revoke(config: DynamicSecretConfig, entity: LeasedEntity) async throws {
        let inputs = try AWSIAMInputs(config.inputs, forRevocation: true)
        // STS credentials cannot be revoked before they expire; nothing exists to delete.
        guard inputs.credentialType == .iamUser else { return }
        let creds: AWSCredentials
        do { creds = try await connection(inputs, projectId: config.projectId) } catch { throw Self.mapped(error, doing: "connect") }
        do {
            try await Self.deleteUser(IAMClient(query: query, region: inputs.region, credentials: StaticCredentialProvider(creds)), entity, madeWith: inputs)
        } catch {
            throw Self.mapped(error, doing: "delete the IAM user \(entity.id)")
        }
    }

    /// An access key id as AWS issues them (16-128 letters and digits); anything else is not used.
    static func wellFormedAccessKeyId(_ id: String) -> String? {
        (16...128).contains(id.utf8.count) && id.utf8.allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) ? id : nil
    }

    /// Deletes a lease's user. First the short way: undo what kms itself attached (known from
    /// the config the lease is revoked with, no listing), delete the access key kms made (its id
    /// kept with the lease; the keys are listed when there is no usable id) and the user: for a
    /// plain user two calls, as a client deleting its own user makes. AWS refuses to delete a
    /// user that still has anything (another key, a group, a policy) with `DeleteConflict`; then
    /// it takes the long way and enumerates everything.
    static func deleteUser(_ iam: IAMClient, _ entity: LeasedEntity, madeWith inputs: AWSIAMInputs) async throws {
        let name = entity.id
        let accessKeyId = entity.state[accessKeyIdState].flatMap(wellFormedAccessKeyId)
        do {
            // Best effort: a membership or policy already gone is fine, and whatever is left
            // makes DeleteUser refuse, which the long way below cleans up.
            for group in inputs.userGroups { try? await iam.removeUserFromGroup(user: name, group: group) }
            for arn in inputs.policyArns { try? await iam.detachUserPolicy(user: name, policyArn: arn) }
            if inputs.policyDocument != nil { try? await iam.deleteUserPolicy(user: name, name: "kms-inline") }
            let keys: [String]
            if let accessKeyId { keys = [accessKeyId] } else { keys = try await iam.listAccessKeys(user: name) }
            for key in keys { try await ignoringGone { try await iam.deleteAccessKey(user: name, accessKeyId: key) } }
            try await iam.deleteUser(name: name)
        } catch let error as AWSError where error.code == "NoSuchEntity" {
            return  // from listing the user's keys or deleting the user: the user is gone
        } catch let error as AWSError where error.code == "DeleteConflict" {
            try await deleteUser(iam, name: name)
        }
    }

    /// Removes group memberships, access keys, inline and attached policies, then the user.
    /// A user that no longer exists counts as deleted.
    static func deleteUser(_ iam: IAMClient, name: String) async throws {
        do {
            // A listed item that vanished meanwhile (a group, a key, a policy) is not the user.
            for group in try await iam.listGroupsForUser(user: name) { try await ignoringGone { try await iam.removeUserFromGroup(user: name, group: group) } }
            for key in try await iam.listAccessKeys(user: name) { try await ignoringGone { try await iam.deleteAccessKey(user: name, accessKeyId: key) } }
            for policy in try await iam.listUserPolicies(user: name) { try await ignoringGone { try await iam.deleteUserPolicy(user: name, name: policy) } }
            for arn in try await iam.listAttachedUserPolicies(user: name) { try await ignoringGone { try await iam.detachUserPolicy(user: name, policyArn: arn) } }
            try await iam.deleteUser(name: name)
        } catch let error as AWSError where error.code == "NoSuchEntity" {
            return  // from a listing or from deleting the user: the user is gone
        }
    }

    /// Runs `body`, treating `NoSuchEntity` as done: for the removal of one item of a user.
    private static func ignoringGone(_ body: () async throws -> Void) async throws {
        do { try await body() } catch let error as AWSError where error.code == "NoSuchEntity" {}
    }
}
