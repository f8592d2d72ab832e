import Foundation

/// An invitation of a person to an organization, as the API shows it. The token is never
/// stored: only its SHA-256.
public struct Invitation: Sendable, Codable, Equatable {
    public let id: String
    public let orgId: String
    public let email: String
    public let role: String
    public let createdAt: Date
    public let expiresAt: Date

    init(row: DBRow) throws {
        id = try row.string("id")
        orgId = try row.string("org_id")
        email = try row.string("email")
        role = try row.string("role")
        createdAt = try row.date("created_at")
        expiresAt = try row.date("expires_at")
    }
}

/// Invitations: the only way an org admin brings a person into an organization. The person
/// accepts with their own password (a new account) or their existing one (an existing account),
/// so no org admin ever sets, learns or replaces another person's credentials.
public struct InvitationStore: Sendable {
    let database: any Database
    let clock: TimeSource

    /// The prefix of invitation tokens, so a leaked one is recognisable.
    public static let prefix = "kms_inv_"
    /// How long an invitation may be accepted: 72 hours.
    public static let lifetime: TimeInterval = 72 * 3600

    public init(database: any Database, clock: TimeSource) {
        self.database = database
        self.clock = clock
    }

    /// Creates an invitation and returns it with its one-time token. A pending invitation of the
    /// same address to the same organization is replaced.
    public func create(orgId: String, email: String, role: OrgRole, invitedBy: String) async throws -> (Invitation, String) {
        let token = Self.prefix + SecureRandom.token()
        let id = SecureRandom.id()
        let now = clock.now()
        return try await database.transaction { db in
            try await db.query("DELETE FROM org_invitations WHERE org_id = $1 AND email = $2 AND accepted_at IS NULL", [.text(orgId), .text(email)])
            try await db.query("""
                INSERT INTO org_invitations (id, org_id, email, role, token_hash, invited_by, created_at, expires_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """, [.text(id), .text(orgId), .text(email), .text(role.rawValue), .text(SecureRandom.sha256Hex(token)), .text(invitedBy),
                      DBValue(now), DBValue(now.addingTimeInterval(Self.lifetime))])
            guard let row = try await db.first("SELECT * FROM org_invitations WHERE id = $1", [.text(id)]) else { throw StorageError.other("invitation vanished") }
            return (try Invitation(row: row), token)
        }
    }

    /// The pending, unexpired invitation of a token, or nil.
    public func pending(token: String) async throws -> Invitation? {
        guard token.hasPrefix(Self.prefix) else { return nil }
        return try await database.first("SELECT * FROM org_invitations WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2",
                                        [.text(SecureRandom.sha256Hex(token)), DBValue(clock.now())]).map(Invitation.init(row:))
    }

    /// Marks the invitation used by `userId`, within `db`'s transaction; false when another
    /// acceptance won the race or it expired meanwhile.
    func consume(id: String, userId: String, on db: any SQLExecutor) async throws -> Bool {
        try await !db.query("""
            UPDATE org_invitations SET accepted_at = $2, accepted_user_id = $3 WHERE id = $1 AND accepted_at IS NULL AND expires_at > $2 RETURNING id
            """, [.text(id), DBValue(clock.now()), .text(userId)]).isEmpty
    }

    /// Wrong passwords an invitation tolerates before it is void: it cannot become a way to
    /// guess an existing account's password.
    public static let maxFailedAttempts = 5

    /// Accepts an invitation: an existing account must prove its password; otherwise an account
    /// is created with the person's own password. Returns the user and whether it was created.
    /// The password's form is checked before anything else, so a malformed one says nothing
    /// about whether the address has an account.
    public func accept(token: String, password: String, passwords: PasswordHasher, tenants: TenantStore,
                       audit: AuditLog, request: RequestInfo) async throws -> (User, Invitation, created: Bool) {
        let refused = APIError.unauthorized("the invitation is invalid, used or expired, or the password is wrong")
        let password = try Validate.password(password)
        guard let invitation = try await pending(token: token) else { throw refused }
        let role = try OrgRole.parse(invitation.role)
        if let existing = try await tenants.userForLogin(email: invitation.email) {
            guard try await passwords.verifyOffLoop(password, hash: existing.passwordHash) else {
                let attempts = try await database.first("""
                    UPDATE org_invitations SET failed_attempts = failed_attempts + 1,
                        expires_at = CASE WHEN failed_attempts + 1 >= $2 THEN $3 ELSE expires_at END
                    WHERE id = $1 RETURNING failed_attempts
                    """, [.text(invitation.id), .int(Int64(Self.maxFailedAttempts)), DBValue(clock.now())])?.int("failed_attempts") ?? 0
                _ = try? await audit.recordFailure(AuditEvent("user-invitation-failed", orgId: invitation.orgId, actor: .anonymous, ipAddress: request.clientIP,
                                                          userAgent: request.userAgent,
                                                          metadata: ["invitationId": invitation.id, "failedAttempts": String(attempts),
                                                                     "voided": String(attempts >= Self.maxFailedAttempts)]))
                throw refused
            }
            try await database.transaction { db in
                guard try await self.consume(id: invitation.id, userId: existing.user.id, on: db) else { throw refused }
                if try await tenants.orgRole(userId: existing.user.id, orgId: invitation.orgId, on: db) == nil {
                    try await tenants.addMembership(orgId: invitation.orgId, userId: existing.user.id, role: role, on: db)
                }
            }
            return (existing.user, invitation, false)
        }
        let hash = try await passwords.hashOffLoop(password)
        let user = try await database.transaction { db in
            let user = try await tenants.createUser(orgId: invitation.orgId, email: invitation.email, passwordHash: hash, role: role, on: db)
            guard try await self.consume(id: invitation.id, userId: user.id, on: db) else { throw refused }
            return user
        }
        return (user, invitation, true)
    }
}
