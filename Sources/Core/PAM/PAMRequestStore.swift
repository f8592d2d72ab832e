import Foundation

/// An access request and its reviews, as the API shows it.
public struct PAMAccessRequestRecord: Encodable, Sendable {
    public struct Person: Encodable, Sendable { public let id: String; public let email: String }
    public struct Review: Encodable, Sendable {
        public let reviewer: Person
        public let decision: String
        public let comment: String?
        public let createdAt: Date
    }
    public let id: String
    public let projectId: String
    public let accountId: String
    public let requester: Person
    public let status: String
    public let duration: Int
    public let reason: String?
    public var reviews: [Review]
    public let createdAt: Date
    public let decidedAt: Date?
    public let grantExpiresAt: Date?
    let orgId: String
    let pendingUntil: Date
    let grantClosedAt: Date?

    enum CodingKeys: String, CodingKey { case id, projectId, accountId, requester, status, duration, reason, reviews, createdAt, decidedAt, grantExpiresAt }

    init(row: DBRow) throws {
        id = try row.string("id"); orgId = try row.string("org_id"); projectId = try row.string("project_id"); accountId = try row.string("account_id")
        requester = Person(id: try row.string("requester_id"), email: try row.string("requester_email")); status = try row.string("status")
        duration = Int(try row.int("duration")); reason = try row.optionalString("reason"); reviews = []
        createdAt = try row.date("created_at"); pendingUntil = try row.date("pending_until"); decidedAt = try row.optionalDate("decided_at")
        grantExpiresAt = try row.optionalDate("grant_expires_at"); grantClosedAt = try row.optionalDate("grant_closed_at")
    }
}

/// Storage of access requests; each state change is one conditional update, so concurrent
/// reviews (or a review racing the expiry job) decide a request once.
public struct PAMRequestStore: Sendable {
    let platform: Platform
    var database: any Database { platform.database }
    /// A pending request expires after this long.
    public static let pendingLifetime: TimeInterval = 86_400

    public init(platform: Platform) { self.platform = platform }

    func withReviews(_ request: PAMAccessRequestRecord) async throws -> PAMAccessRequestRecord {
        var out = request
        out.reviews = try await database.query(SQL("SELECT * FROM pam_access_reviews WHERE request_id = \(request.id) ORDER BY created_at")).map { row in
            PAMAccessRequestRecord.Review(reviewer: .init(id: try row.string("reviewer_id"), email: try row.string("reviewer_email")),
                                          decision: try row.string("decision"), comment: try row.optionalString("comment"), createdAt: try row.date("created_at"))
        }
        return out
    }

    public func find(id: String) async throws -> PAMAccessRequestRecord? {
        guard let row = try await database.first(SQL("SELECT * FROM pam_access_requests WHERE id = \(id)")) else { return nil }
        return try await withReviews(try PAMAccessRequestRecord(row: row))
    }

    public func list(projectId: String, status: String?) async throws -> [PAMAccessRequestRecord] {
        let rows = try await database.query(status.map {
            SQL("SELECT * FROM pam_access_requests WHERE project_id = \(projectId) AND status = \($0) ORDER BY created_at DESC LIMIT 500")
        } ?? SQL("SELECT * FROM pam_access_requests WHERE project_id = \(projectId) ORDER BY created_at DESC LIMIT 500"))
        var out: [PAMAccessRequestRecord] = []
        for row in rows { out.append(try await withReviews(try PAMAccessRequestRecord(row: row))) }
        return out
    }

    func create(account: PAMAccount, requesterId: String, email: String, duration: Int, reason: String?) async throws -> PAMAccessRequestRecord {
        let id = SecureRandom.id(), now = platform.clock.now()
        try await database.query(SQL("""
            INSERT INTO pam_access_requests (id, org_id, project_id, account_id, requester_id, requester_email, status, duration, reason, created_at, pending_until)
            VALUES (\(id), \(account.orgId), \(account.projectId), \(account.id), \(requesterId), \(email), 'pending', \(duration), \(reason), \(now),
                    \(now.addingTimeInterval(Self.pendingLifetime)))
            """))
        guard let created = try await find(id: id) else { throw StorageError.other("access request vanished") }
        return created
    }

    /// Adds a review; false when this reviewer already reviewed the request.
    func addReview(requestId: String, reviewerId: String, email: String, decision: String, comment: String?) async throws -> Bool {
        do {
            try await database.query(SQL("""
                INSERT INTO pam_access_reviews (request_id, reviewer_id, reviewer_email, decision, comment, created_at)
                VALUES (\(requestId), \(reviewerId), \(email), \(decision), \(comment), \(platform.clock.now()))
                """))
            return true
        } catch StorageError.uniqueViolation {
            return false
        }
    }

    /// Approvals by people who are approvers now (a removed approver's approval no longer counts).
    func approvals(requestId: String, approvers: [String]) async throws -> Int {
        try await database.query(SQL("SELECT reviewer_email FROM pam_access_reviews WHERE request_id = \(requestId) AND decision = 'approve'"))
            .filter { approvers.contains(try $0.string("reviewer_email")) }.count
    }

    /// Moves a pending request to approved (granting from now) or denied; false when it is no
    /// longer pending (another reviewer, the requester or the expiry job came first).
    func decide(id: String, approved: Bool, duration: Int) async throws -> Bool {
        let now = platform.clock.now()
        let sql: SQL = approved
            ? SQL("""
                UPDATE pam_access_requests SET status = 'approved', decided_at = \(now), grant_expires_at = \(now.addingTimeInterval(TimeInterval(duration)))
                WHERE id = \(id) AND status = 'pending' AND pending_until > \(now) RETURNING id
                """)
            : SQL("UPDATE pam_access_requests SET status = 'denied', decided_at = \(now) WHERE id = \(id) AND status = 'pending' RETURNING id")
        return try await database.first(sql) != nil
    }

    /// Cancels a pending request or an approved one whose grant is still open.
    func cancel(id: String) async throws -> Bool {
        let now = platform.clock.now()
        return try await database.first(SQL("""
            UPDATE pam_access_requests SET status = 'cancelled', decided_at = COALESCE(decided_at, \(now)),
                grant_closed_at = CASE WHEN status = 'approved' THEN \(now) ELSE grant_closed_at END
            WHERE id = \(id) AND (status = 'pending' OR (status = 'approved' AND grant_closed_at IS NULL)) RETURNING id
            """)) != nil
    }

    /// The caller's open grant on an account: approved, not ended, not closed.
    func openGrant(accountId: String, requesterId: String) async throws -> PAMAccessRequestRecord? {
        let now = platform.clock.now()
        return try await database.first(SQL("""
            SELECT * FROM pam_access_requests WHERE account_id = \(accountId) AND requester_id = \(requesterId) AND status = 'approved'
                AND grant_closed_at IS NULL AND grant_expires_at > \(now) ORDER BY grant_expires_at DESC LIMIT 1
            """)).map(PAMAccessRequestRecord.init(row:))
    }

    /// Pending requests past their lifetime, now expired.
    func expirePending() async throws -> [PAMAccessRequestRecord] {
        let now = platform.clock.now()
        return try await database.query(SQL("""
            UPDATE pam_access_requests SET status = 'expired', decided_at = \(now) WHERE status = 'pending' AND pending_until <= \(now) RETURNING *
            """)).map(PAMAccessRequestRecord.init(row:))
    }

    /// Approved grants whose time is up, now closed (their sessions are then revoked).
    func closeEndedGrants() async throws -> [PAMAccessRequestRecord] {
        let now = platform.clock.now()
        return try await database.query(SQL("""
            UPDATE pam_access_requests SET grant_closed_at = \(now)
            WHERE status = 'approved' AND grant_closed_at IS NULL AND grant_expires_at <= \(now) RETURNING *
            """)).map(PAMAccessRequestRecord.init(row:))
    }
}
