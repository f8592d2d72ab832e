import Foundation

/// An organization: the unit of tenancy.
public struct Organization: Sendable, Codable, Equatable {
    public let id: String
    public let name: String
    public let slug: String
}

/// A human user, as the API shows one.
public struct User: Sendable, Codable, Equatable {
    public let id: String
    public let email: String
}

/// A machine identity.
public struct Identity: Sendable, Codable, Equatable {
    public let id: String
    public let name: String
    public let orgId: String
    public let role: String
    public let authMethods: [String]
    /// Instance admins administer every organization; only an instance admin may change such an identity.
    public let isInstanceAdmin: Bool
    public let createdAt: Date
    public let updatedAt: Date
}

/// A project environment.
public struct Environment: Sendable, Codable, Equatable {
    public let id: String
    public let name: String
    public let slug: String
}

/// A project with its environments.
public struct Project: Sendable, Codable, Equatable {
    public let id: String
    public let name: String
    public let slug: String
    public let orgId: String
    public let environments: [Environment]
    public let createdAt: Date
}

/// An identity's role in a project.
public struct IdentityMembership: Sendable, Codable, Equatable {
    public let id: String
    public let identityId: String
    public let projectId: String
    public let role: String
}

/// A user's role in a project.
public struct ProjectMembership: Sendable, Codable, Equatable {
    public let id: String
    public let userId: String
    public let projectId: String
    public let role: String
}
