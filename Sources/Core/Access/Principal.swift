/// The authenticated caller of a request: who it is, from which org, through which token.
public struct Principal: Sendable {
    public let subject: TokenSubject
    /// The organization the token was issued in.
    public let orgId: String
    /// The identity's org role (identities belong to exactly one org); nil for users.
    public let identityRole: OrgRole?
    /// Instance admins administer every organization.
    public let isInstanceAdmin: Bool
    public let token: AccessTokenRecord
    /// Display data for audit entries (e-mail for users).
    public let email: String?

    public init(token: AccessTokenRecord, email: String? = nil, userIsInstanceAdmin: Bool = false) {
        self.subject = token.subject
        self.orgId = token.orgId
        self.token = token
        self.email = email
        self.identityRole = token.identityRole.flatMap(OrgRole.init(rawValue:))
        self.isInstanceAdmin = token.identityIsInstanceAdmin || userIsInstanceAdmin
    }

    /// The id of the identity or user.
    public var id: String {
        switch subject {
        case .identity(let id), .user(let id): id
        }
    }

    /// How the audit log names this caller.
    public var auditActor: AuditActor {
        let actor = token.auditActor
        guard case .user = subject else { return actor }
        return AuditActor(type: actor.type, id: actor.id, metadata: actor.metadata.merging(["email": email ?? ""]) { a, _ in a })
    }
}
