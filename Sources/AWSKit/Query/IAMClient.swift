import Foundation

/// An IAM user as IAM reports it.
public struct IAMUser: Sendable, Equatable {
    public let userName: String
    public let userId: String
    public let arn: String
    public let path: String
}

/// An IAM role as IAM reports it.
public struct IAMRole: Sendable, Equatable {
    public let roleName: String
    public let roleId: String
    public let arn: String
}

/// IAM operations over the Query client. List calls follow pagination to the end.
public struct IAMClient: Sendable {
    public let query: AWSQueryClient
    public let region: String
    public let credentials: any AWSCredentialProvider

    public init(query: AWSQueryClient, region: String = "us-east-1", credentials: any AWSCredentialProvider) {
        self.query = query
        self.region = region
        self.credentials = credentials
    }

    private func call(_ action: String, _ params: [(String, String)]) async throws -> XMLNode {
        try await query.call(.iam, action, params, region: region, credentials: try await credentials.credentials())
    }

    private func list(_ action: String, _ params: [(String, String)], _ listName: String) async throws -> [XMLNode] {
        try await query.paginate(.iam, action, params, listName: listName, region: region, credentials: try await credentials.credentials())
    }

    /// `Tags.member.N.Key/Value` parameters.
    static func tagParameters(_ tags: [(String, String)]) -> [(String, String)] {
        tags.enumerated().flatMap { i, tag in [("Tags.member.\(i + 1).Key", tag.0), ("Tags.member.\(i + 1).Value", tag.1)] }
    }

    static func user(_ node: XMLNode?) throws -> IAMUser {
        guard let node, let name = node.value("UserName"), let arn = node.value("Arn") else { throw AWSError.invalidResponse("response carries no user") }
        return IAMUser(userName: name, userId: node.value("UserId") ?? "", arn: arn, path: node.value("Path") ?? "/")
    }

    public func createUser(name: String, path: String? = nil, permissionsBoundary: String? = nil, tags: [(String, String)] = []) async throws -> IAMUser {
        var params: [(String, String)] = [("UserName", name)]
        if let path { params.append(("Path", path)) }
        if let permissionsBoundary { params.append(("PermissionsBoundary", permissionsBoundary)) }
        params += Self.tagParameters(tags)
        return try Self.user(try await call("CreateUser", params).child("User"))
    }

    public func getUser(name: String) async throws -> IAMUser { try Self.user(try await call("GetUser", [("UserName", name)]).child("User")) }

    public func tagUser(name: String, tags: [(String, String)]) async throws { _ = try await call("TagUser", [("UserName", name)] + Self.tagParameters(tags)) }

    public func addUserToGroup(user: String, group: String) async throws { _ = try await call("AddUserToGroup", [("UserName", user), ("GroupName", group)]) }

    public func removeUserFromGroup(user: String, group: String) async throws { _ = try await call("RemoveUserFromGroup", [("UserName", user), ("GroupName", group)]) }

    public func listGroupsForUser(user: String) async throws -> [String] {
        try await list("ListGroupsForUser", [("UserName", user)], "Groups").compactMap { $0.value("GroupName") }
    }

    public func attachUserPolicy(user: String, policyArn: String) async throws { _ = try await call("AttachUserPolicy", [("UserName", user), ("PolicyArn", policyArn)]) }

    public func detachUserPolicy(user: String, policyArn: String) async throws { _ = try await call("DetachUserPolicy", [("UserName", user), ("PolicyArn", policyArn)]) }

    public func listAttachedUserPolicies(user: String) async throws -> [String] {
        try await list("ListAttachedUserPolicies", [("UserName", user)], "AttachedPolicies").compactMap { $0.value("PolicyArn") }
    }

    public func putUserPolicy(user: String, name: String, document: String) async throws {
        _ = try await call("PutUserPolicy", [("UserName", user), ("PolicyName", name), ("PolicyDocument", document)])
    }

    public func deleteUserPolicy(user: String, name: String) async throws { _ = try await call("DeleteUserPolicy", [("UserName", user), ("PolicyName", name)]) }

    public func listUserPolicies(user: String) async throws -> [String] {
        try await list("ListUserPolicies", [("UserName", user)], "PolicyNames").map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// Creates an access key; the secret is in the returned credentials only.
    public func createAccessKey(user: String) async throws -> AWSCredentials {
        let r = try await call("CreateAccessKey", [("UserName", user)])
        guard let id = r.value("AccessKey", "AccessKeyId"), let secret = r.value("AccessKey", "SecretAccessKey") else {
            throw AWSError.invalidResponse("CreateAccessKey carries no key")
        }
        return AWSCredentials(accessKeyId: id, secretAccessKey: secret)
    }

    public func listAccessKeys(user: String) async throws -> [String] {
        try await list("ListAccessKeys", [("UserName", user)], "AccessKeyMetadata").compactMap { $0.value("AccessKeyId") }
    }

    public func deleteAccessKey(user: String, accessKeyId: String) async throws {
        _ = try await call("DeleteAccessKey", [("UserName", user), ("AccessKeyId", accessKeyId)])
    }

    public func deleteUser(name: String) async throws { _ = try await call("DeleteUser", [("UserName", name)]) }

    public func putRolePolicy(role: String, name: String, document: String) async throws {
        _ = try await call("PutRolePolicy", [("RoleName", role), ("PolicyName", name), ("PolicyDocument", document)])
    }

    /// A role's inline policy document (URL-decoded), or nil when the role has no such policy.
    public func getRolePolicy(role: String, name: String) async throws -> String? {
        do {
            let r = try await call("GetRolePolicy", [("RoleName", role), ("PolicyName", name)])
            return r.value("PolicyDocument").map { $0.removingPercentEncoding ?? $0 }
        } catch AWSError.service(let code, _, _, _) where code == "NoSuchEntity" {
            return nil
        }
    }

    /// Deletes a role's inline policy; a policy that is already gone is fine.
    public func deleteRolePolicy(role: String, name: String) async throws {
        do {
            _ = try await call("DeleteRolePolicy", [("RoleName", role), ("PolicyName", name)])
        } catch AWSError.service(let code, _, _, _) where code == "NoSuchEntity" {}
    }

    public func getRole(name: String) async throws -> IAMRole {
        let r = try await call("GetRole", [("RoleName", name)])
        guard let role = r.child("Role"), let roleName = role.value("RoleName"), let arn = role.value("Arn") else { throw AWSError.invalidResponse("GetRole carries no role") }
        return IAMRole(roleName: roleName, roleId: role.value("RoleId") ?? "", arn: arn)
    }
}
