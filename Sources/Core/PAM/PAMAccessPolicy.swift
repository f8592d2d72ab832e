import Foundation

/// Who must approve access to an account, and the limits of a grant (api.md, "Access policy").
public struct PAMAccessPolicy: Codable, Sendable, Equatable {
    public var requiresApproval: Bool
    /// E-mails of project members who may review; stored lower-cased.
    public var approvers: [String]
    public var minApprovals: Int
    /// The longest grant a request may ask for, in seconds.
    public var maxDuration: Int
    public var requireReason: Bool

    public static let open = PAMAccessPolicy(requiresApproval: false, approvers: [], minApprovals: 1, maxDuration: 3600, requireReason: false)

    public init(requiresApproval: Bool, approvers: [String], minApprovals: Int, maxDuration: Int, requireReason: Bool) {
        self.requiresApproval = requiresApproval
        self.approvers = approvers
        self.minApprovals = minApprovals
        self.maxDuration = maxDuration
        self.requireReason = requireReason
    }

    /// Stored policies may lack fields (older rows are `{}`): every field has its default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = Self.open
        requiresApproval = try c.decodeIfPresent(Bool.self, forKey: .requiresApproval) ?? d.requiresApproval
        approvers = try c.decodeIfPresent([String].self, forKey: .approvers) ?? d.approvers
        minApprovals = try c.decodeIfPresent(Int.self, forKey: .minApprovals) ?? d.minApprovals
        maxDuration = try c.decodeIfPresent(Int.self, forKey: .maxDuration) ?? d.maxDuration
        requireReason = try c.decodeIfPresent(Bool.self, forKey: .requireReason) ?? d.requireReason
    }

    /// The body's policy, validated: approvers must be members of the project (people), at
    /// least `minApprovals` of them, none allowed twice; durations within IAM's chained-role limit.
    static func validated(_ input: JSONValue?, current: PAMAccessPolicy, project: Project, platform: Platform) async throws -> PAMAccessPolicy {
        guard let input else { return current }
        guard let object = input.object else { throw APIError.badRequest("accessPolicy must be an object") }
        var policy = current
        if let v = object["requiresApproval"] {
            guard case .bool(let b) = v else { throw APIError.badRequest("accessPolicy.requiresApproval must be true or false") }
            policy.requiresApproval = b
        }
        if let v = object["requireReason"] {
            guard case .bool(let b) = v else { throw APIError.badRequest("accessPolicy.requireReason must be true or false") }
            policy.requireReason = b
        }
        if let v = object["minApprovals"] {
            guard case .number(let n) = v, n == n.rounded(), (1...10).contains(Int(n)) else { throw APIError.badRequest("accessPolicy.minApprovals must be 1-10") }
            policy.minApprovals = Int(n)
        }
        if let v = object["maxDuration"] {
            guard let seconds = try DurationParser.seconds(v, field: "accessPolicy.maxDuration"), (900...3600).contains(seconds) else {
                throw APIError.badRequest("accessPolicy.maxDuration must be 900-3600 seconds (AWS's limit for chained roles)")
            }
            policy.maxDuration = seconds
        }
        if let v = object["approvers"] {
            guard let list = v.array?.compactMap(\.string), list.count == v.array?.count, list.count <= 50 else {
                throw APIError.badRequest("accessPolicy.approvers must be a list of at most 50 e-mail addresses")
            }
            var emails: [String] = []
            for raw in list {
                let email = try Validate.email(raw).lowercased()
                guard !emails.contains(email) else { throw APIError.badRequest("accessPolicy.approvers lists \(email) twice") }
                guard let user = try await platform.tenants.user(email: email, orgId: project.orgId),
                      try await platform.projects.role(of: .user(user.id), projectId: project.id) != nil else {
                    throw APIError.badRequest("accessPolicy.approvers: \(email) is not a member of this project")
                }
                emails.append(email)
            }
            policy.approvers = emails
        }
        if policy.requiresApproval {
            guard policy.approvers.count >= policy.minApprovals else {
                throw APIError.badRequest("accessPolicy needs at least minApprovals (\(policy.minApprovals)) approvers")
            }
        }
        return policy
    }
}
