import AWSKit
import CLISupport
import Foundation
import Logging

/// AWS credentials that are never stale: a dynamic-secret lease made through the API, made
/// again `leadTime` before the current one expires (plus time to verify), checked with
/// `sts:GetCallerIdentity` before it is handed out (new IAM keys are often refused for a few
/// seconds), the old lease revoked once readers had time to switch, every lease revoked on exit.
actor AWSCredentialKeeper {
    struct Held: Sendable {
        let leaseId: String
        let accessKeyId: String
        let secretAccessKey: String
        let sessionToken: String?
        let expiresAt: Date
        /// When the agent moves to the next lease.
        var switchAt: Date = .distantFuture

        /// The `Expiration` clients are told: the switch time, so an SDK that caches until then
        /// asks again before the lease is replaced; never in the past (SDKs refuse expired
        /// credentials) and never past the lease's own expiry.
        var advertisedExpiration: Date {
            min(expiresAt, max(switchAt, Date().addingTimeInterval(AWSCredentialKeeper.advertiseAhead)))
        }
    }

    /// The least time ahead an `Expiration` is advertised.
    static let advertiseAhead: TimeInterval = 30

    /// A replaced lease and when to revoke it.
    struct Retiring: Sendable { let held: Held; var revokeAt: Date }

    let entry: AgentConfig.AWSEntry
    let server: String
    let tokens: TokenKeeper
    let logger: Logger
    let metrics: AgentMetrics
    let ttl: Int
    let leadTime: Int
    /// How long a new key may take to start working before the lease is given up.
    static let verifyBudget: TimeInterval = 60
    /// How long readers get to switch before the replaced lease is revoked.
    static let switchGrace: TimeInterval = 10
    private(set) var current: Held?
    private var retiring: [Retiring] = []
    var onChange: (@Sendable () async -> Void)?

    init(entry: AgentConfig.AWSEntry, server: String, tokens: TokenKeeper, logger: Logger, metrics: AgentMetrics) throws {
        self.entry = entry
        self.server = server
        self.tokens = tokens
        self.logger = logger
        self.metrics = metrics
        ttl = try AgentConfig.seconds(entry.ttl, default: 3600)
        leadTime = try AgentConfig.seconds(entry.leadTime, default: 300)
    }

    func setOnChange(_ handler: @escaping @Sendable () async -> Void) { onChange = handler }

    /// Credentials with at least `leadTime` left, or nil.
    var fresh: Held? {
        guard let current, current.expiresAt.timeIntervalSinceNow >= Double(leadTime) else { return nil }
        return current
    }

    static func scope(_ entry: AgentConfig.AWSEntry) -> [String: Any] {
        ["projectSlug": entry.projectSlug, "environmentSlug": entry.environmentSlug, "path": entry.path ?? "/"]
    }

    /// A new lease through the API (outside the actor: the JSON bodies are not Sendable).
    static func makeLease(server: String, token: String, entry: AgentConfig.AWSEntry, ttl: Int) async throws -> Held {
        var body = scope(entry)
        body["dynamicSecretName"] = entry.dynamicSecret
        body["ttl"] = ttl
        let answer = try await APIClient(baseURL: server, token: token).call(.POST, "/api/v1/dynamic-secrets/leases", body: body)
        guard let lease = answer["lease"] as? [String: Any], let id = lease["id"] as? String, let data = answer["data"] as? [String: Any],
              let key = data["ACCESS_KEY"] as? String, let secret = data["SECRET_ACCESS_KEY"] as? String else {
            throw AgentError("the lease answer lacks credentials")
        }
        let expiry = (lease["expireAt"] as? String).flatMap(parseISO8601)
            ?? Date().addingTimeInterval(TimeInterval(ttl))
        return Held(leaseId: id, accessKeyId: key, secretAccessKey: secret, sessionToken: data["SESSION_TOKEN"] as? String, expiresAt: expiry)
    }

    static func revokeLease(server: String, token: String, entry: AgentConfig.AWSEntry, leaseId: String) async throws {
        _ = try await APIClient(baseURL: server, token: token).call(.DELETE, "/api/v1/dynamic-secrets/leases/\(leaseId)", body: scope(entry))
    }

    /// Makes, verifies and switches to a new lease.
    func refresh() async throws {
        var held = try await Self.makeLease(server: server, token: await tokens.current(), entry: entry, ttl: ttl)
        metrics.count("kms_agent_leases_made_total", labels: "{name=\"\(entry.name)\"}")
        let id = held.leaseId, expiry = held.expiresAt
        if entry.verify ?? true {
            do { try await verify(held) } catch {
                // Revoked with the others (on exit too) if this fails now.
                if (try? await revoke(held)) == nil { retiring.append(Retiring(held: held, revokeAt: Date())) }
                throw error
            }
        }
        held.switchAt = held.expiresAt.addingTimeInterval(-Double(leadTime) - margin)
        // The old lease stays valid until clients told its (earlier) switch time had time to ask again.
        // Readers were told at most `advertiseAhead` from the last read; then they had a grace period.
        if let old = current { retiring.append(Retiring(held: old, revokeAt: Date().addingTimeInterval(Self.advertiseAhead + Self.switchGrace))) }
        current = held
        metrics.set("kms_agent_credentials_seconds_until_expiry", labels: "{name=\"\(entry.name)\"}", expiry.timeIntervalSinceNow)
        logger.info("AWS credentials switched", metadata: ["name": "\(entry.name)", "leaseId": "\(id)", "expiresAt": "\(expiry)"])
        if let file = entry.credentialsFile {
            do { try FileSink.write(Self.sharedCredentials(held), to: file) } catch {
                logger.error("writing the credentials file failed", metadata: ["name": "\(entry.name)", "error": "\(error)"])
            }
        }
        await onChange?()
    }

    /// Retries GetCallerIdentity with the new key until it works, within the budget.
    private func verify(_ held: Held) async throws {
        let query = AWSQueryClient()
        defer { Task { try? await query.shutdown() } }
        let sts = STSClient(query: query, region: ProcessInfo.processInfo.environment["AWS_REGION"] ?? "us-east-1",
                            credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: held.accessKeyId, secretAccessKey: held.secretAccessKey,
                                                                                 sessionToken: held.sessionToken)))
        let deadline = Date().addingTimeInterval(Self.verifyBudget)
        var attempt = 0
        while true {
            do {
                _ = try await sts.getCallerIdentity()
                return
            } catch {
                attempt += 1
                guard Date() < deadline else { throw AgentError("the new key for \(entry.name) did not work within \(Int(Self.verifyBudget)) s: \(error)") }
                try await Task.sleep(for: .milliseconds(min(2000, 200 * attempt)))
            }
        }
    }

    @discardableResult
    private func revoke(_ held: Held) async throws -> Bool {
        try await Self.revokeLease(server: server, token: await tokens.current(), entry: entry, leaseId: held.leaseId)
        metrics.count("kms_agent_leases_revoked_total", labels: "{name=\"\(entry.name)\"}")
        return true
    }

    /// Time kept for verifying the next key before the current one reaches `leadTime`.
    var margin: Double { min(Self.verifyBudget, Double(ttl - leadTime) / 2) }

    /// Revokes the replaced leases that are due. A lease the server no longer knows (4xx) or
    /// that has expired anyway leaves the list; others are retried later, never blocking rotation.
    private func revokeDue() async {
        let now = Date()
        var kept: [Retiring] = []
        for var old in retiring {
            guard old.revokeAt <= now else { kept.append(old); continue }
            do { try await revoke(old.held) } catch {
                let gone = "\(error)".hasPrefix("4") || old.held.expiresAt <= now
                if !gone {
                    old.revokeAt = now.addingTimeInterval(Self.switchGrace)
                    kept.append(old)
                    if !Task.isCancelled { logger.warning("revoking a replaced lease failed; retrying", metadata: ["error": "\(error)"]) }
                }
            }
        }
        retiring = kept
    }

    /// Runs until cancelled: a new lease `leadTime` (plus time to verify) before expiry; replaced
    /// leases revoked on their own schedule. Failures back off, and the still-valid lease keeps
    /// being served meanwhile.
    func keep() async {
        var attempt = 0
        while !Task.isCancelled {
            await revokeDue()
            let now = Date()
            let due = current?.switchAt ?? now
            if due > now {
                let nextRevoke = retiring.map(\.revokeAt).min() ?? .distantFuture
                try? await Task.sleep(for: .seconds(max(0.1, min(due.timeIntervalSince(now), nextRevoke.timeIntervalSince(now), 5))))
                continue
            }
            do {
                try await refresh()
                attempt = 0
            } catch {
                attempt += 1
                let delay = Backoff.delay(attempt: attempt)
                logger.warning("making AWS credentials failed; serving the current ones", metadata: ["name": "\(entry.name)", "error": "\(error)",
                                                                                                   "retryInSeconds": "\(Int(delay))"])
                try? await Task.sleep(for: .seconds(delay))
            }
            if let current { metrics.set("kms_agent_credentials_seconds_until_expiry", labels: "{name=\"\(entry.name)\"}", current.expiresAt.timeIntervalSinceNow) }
        }
    }

    /// Revokes every lease the agent made (on exit).
    func revokeAll() async {
        for held in retiring.map(\.held) + (current.map { [$0] } ?? []) {
            do { try await revoke(held) } catch { logger.warning("revoking a lease on exit failed", metadata: ["leaseId": "\(held.leaseId)", "error": "\(error)"]) }
        }
        retiring = []
        current = nil
    }

    static func sharedCredentials(_ held: Held) -> String {
        var text = "[default]\naws_access_key_id = \(held.accessKeyId)\naws_secret_access_key = \(held.secretAccessKey)\n"
        if let token = held.sessionToken { text += "aws_session_token = \(token)\n" }
        return text
    }

    /// The ECS container-credentials answer (`Token` always present, null for IAM-user keys).
    static func ecs(_ held: Held) -> [String: Any] {
        ["AccessKeyId": held.accessKeyId, "SecretAccessKey": held.secretAccessKey, "Token": held.sessionToken as Any? ?? NSNull(),
         "Expiration": ISO8601DateFormatter().string(from: held.advertisedExpiration)]
    }

    /// The `credential_process` answer.
    static func process(_ held: Held) -> [String: Any] {
        var out: [String: Any] = ["Version": 1, "AccessKeyId": held.accessKeyId, "SecretAccessKey": held.secretAccessKey,
                                  "Expiration": ISO8601DateFormatter().string(from: held.advertisedExpiration)]
        if let token = held.sessionToken { out["SessionToken"] = token }
        return out
    }
}
