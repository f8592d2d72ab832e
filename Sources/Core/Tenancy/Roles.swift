/// A role in an organization.
public enum OrgRole: String, Sendable, Codable, CaseIterable, Comparable {
    case noAccess = "no-access"
    case member
    case admin

    private var rank: Int { switch self { case .noAccess: 0; case .member: 1; case .admin: 2 } }
    public static func < (a: OrgRole, b: OrgRole) -> Bool { a.rank < b.rank }

    /// Parses a role name from a request, with a clear 400 otherwise.
    public static func parse(_ text: String?) throws -> OrgRole {
        guard let text, let role = OrgRole(rawValue: text) else {
            throw APIError.badRequest("role must be one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return role
    }
}

/// A role in a project.
public enum ProjectRole: String, Sendable, Codable, CaseIterable, Comparable {
    case noAccess = "no-access"
    case viewer
    case member
    case admin

    private var rank: Int { switch self { case .noAccess: 0; case .viewer: 1; case .member: 2; case .admin: 3 } }
    public static func < (a: ProjectRole, b: ProjectRole) -> Bool { a.rank < b.rank }

    /// Parses a role name from a request, with a clear 400 otherwise.
    public static func parse(_ text: String?) throws -> ProjectRole {
        guard let text, let role = ProjectRole(rawValue: text) else {
            throw APIError.badRequest("role must be one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return role
    }
}
