import Foundation

/// The settings of just-in-time PAM, read once by Host.
public struct PAMSettings: Sendable {
    /// How long a revocation stays written: the longest session a provider issues plus skew.
    public let revocationRetention: TimeInterval
    /// Which internal hosts notification webhooks may reach.
    public let webhookEgress: EgressPolicy

    public init(revocationRetention: TimeInterval = 3900, webhookEgress: EgressPolicy = EgressPolicy(allowList: nil, settingName: "KMS_PAM_WEBHOOK_ALLOWED_HOSTS")) {
        self.revocationRetention = revocationRetention
        self.webhookEgress = webhookEgress
    }
}

/// Ends access for real: revoking a session, cancelling an open grant and the end of a grant
/// all mark the sessions ended and write a revocation for each (target, person) they touched.
public struct PAMGrants: Sendable {
    let platform: Platform
    let providers: ProviderRegistry
    let revocations: PAMRevocations
    var sessions: PAMSessionStore { PAMSessionStore(platform: platform) }

    public init(platform: Platform, providers: ProviderRegistry, settings: PAMSettings) {
        self.platform = platform
        self.providers = providers
        revocations = PAMRevocations(platform: platform, providers: providers, retention: settings.revocationRetention)
    }

    /// Revokes one session (its credentials and console links stop working); returns it. The
    /// revocation is recorded before anything else, so a failure later is retried from it.
    public func revoke(_ session: PAMSession, actor: AuditActor, why: String, request: RequestInfo?) async throws -> PAMSession {
        let targets = try await record([session])
        let marked = try await sessions.markRevoked(id: session.id) ?? session
        try await platform.audit.record(AuditEvent("pam-session-revoked", orgId: session.orgId, projectId: session.projectId, actor: actor,
                                                   ipAddress: request?.clientIP, userAgent: request?.userAgent,
                                                   metadata: ["sessionId": session.id, "target": session.target, "sourceIdentity": session.sourceIdentity ?? "",
                                                              "reason": why, "person": session.userEmail]))
        try await apply(targets)
        return marked
    }

    /// Closes every session opened under a grant (cancelled or ended), those that ended by
    /// expiry too: their cloud sessions may outlive the records.
    public func closeGrant(_ request: PAMAccessRequestRecord, actor: AuditActor, why: String) async throws {
        let opened = try await sessions.sessions(requestId: request.id)
        let targets = try await record(opened)
        for session in opened where session.status == "active" { _ = try await sessions.markRevoked(id: session.id) }
        try await platform.audit.record(AuditEvent("pam-access-grant-closed", orgId: request.orgId, projectId: request.projectId, actor: actor,
                                                   metadata: ["requestId": request.id, "reason": why, "sessions": String(opened.count),
                                                              "person": request.requester.email]))
        try await apply(targets)
    }

    /// Records a revocation per (target, person) of `sessions`; returns the targets.
    private func record(_ sessions: [PAMSession]) async throws -> [String] {
        var done = Set<String>(), targets: [String] = []
        for session in sessions {
            guard let identity = session.sourceIdentity, done.insert(session.target + "\n" + identity).inserted else { continue }
            guard let resource = try await PAMStore(platform: platform).resource(id: session.resourceId, projectId: session.projectId) else {
                platform.logger.error("a PAM session's resource is gone; its revocation cannot be written", metadata: ["sessionId": "\(session.id)"])
                continue
            }
            try await revocations.record(sourceIdentity: identity, target: session.target, resource: resource)
            if !targets.contains(session.target) { targets.append(session.target) }
        }
        return targets
    }

    private func apply(_ targets: [String]) async throws {
        for target in targets { try await revocations.apply(target: target) }
    }
}
