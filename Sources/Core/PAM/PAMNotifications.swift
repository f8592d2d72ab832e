import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// A project's notification webhook for access requests: Slack-compatible JSON, signed with
/// HMAC-SHA256 in `X-KMS-Signature`. Requests only write to an outbox; ``PAMNotifier``
/// delivers from it, retrying with backoff, so a receiver that is down never slows a request.
public struct PAMNotifications: Sendable {
    let platform: Platform
    static let sealingContext = "pam-notifications"

    public init(platform: Platform) { self.platform = platform }

    struct Payload: Encodable {
        let text: String
        let event: String
        let accessRequest: PAMAccessRequestRecord
        let account: Account
        struct Account: Encodable { let id: String; let name: String }
    }

    /// Queues a notification if the project has a webhook.
    func enqueue(_ request: PAMAccessRequestRecord, event: String, account: PAMAccount) async throws {
        guard try await platform.database.first(SQL("SELECT project_id FROM pam_notification_settings WHERE project_id = \(request.projectId)")) != nil else { return }
        let verb = ["created": "asks for", "approved": "was approved for", "denied": "was denied", "expired": "expired without review for"][event] ?? event
        // Slack reads <...> as mentions and links: the person's words are escaped.
        let escape = { (s: String) in s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;") }
        let text = escape("PAM: \(request.requester.email) \(verb) \(account.name) (\(request.duration / 60) min)\(request.reason.map { ": \($0)" } ?? "")")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, e in var c = e.singleValueContainer(); try c.encode(ISO8601Format.string(date)) }
        let body = String(decoding: try encoder.encode(Payload(text: text, event: "pam.access_request.\(event)", accessRequest: request,
                                                               account: .init(id: account.id, name: account.name))), as: UTF8.self)
        let now = platform.clock.now()
        try await platform.database.query(SQL("""
            INSERT INTO pam_notifications (id, project_id, event, payload, next_attempt_at, created_at)
            VALUES (\(SecureRandom.id()), \(request.projectId), \(event), \(body), \(now), \(now))
            """))
    }

    /// Sets a project's webhook (the secret sealed).
    func set(project: Project, url: String, secret: String) async throws {
        let now = platform.clock.now()
        let sealed = try platform.sealer.seal(secret, context: Self.sealingContext + "/" + project.id)
        try await platform.database.query(SQL("""
            INSERT INTO pam_notification_settings (project_id, org_id, url, sealed_secret, created_at, updated_at)
            VALUES (\(project.id), \(project.orgId), \(url), \(sealed), \(now), \(now))
            ON CONFLICT (project_id) DO UPDATE SET url = excluded.url, sealed_secret = excluded.sealed_secret, updated_at = excluded.updated_at
            """))
    }

    func url(projectId: String) async throws -> String? {
        try await platform.database.first(SQL("SELECT url FROM pam_notification_settings WHERE project_id = \(projectId)"))?.string("url")
    }

    func delete(projectId: String) async throws {
        try await platform.database.query(SQL("DELETE FROM pam_notification_settings WHERE project_id = \(projectId)"))
    }

}

/// Delivers queued PAM notifications: each claimed by moving its next attempt forward (so one
/// replica sends it), sent to the checked address, retried up to 10 times with capped jittered
/// backoff.
public struct PAMNotifier: Service {
    let platform: Platform
    let clients: PinnedHTTPClients
    let interval: Duration
    static let maxAttempts = 10

    public init(platform: Platform, egress: EgressPolicy, interval: Duration) {
        self.platform = platform
        clients = PinnedHTTPClients(egress: egress)
        self.interval = interval
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await deliverDue() } catch {
                    platform.logger.warning("PAM notifications pass failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
        await clients.shutdown()
    }

    func deliverDue() async throws {
        let now = platform.clock.now()
        let due = try await platform.database.query(SQL("""
            SELECT id FROM pam_notifications WHERE delivered_at IS NULL AND next_attempt_at <= \(now) AND attempts < \(Self.maxAttempts)
            ORDER BY created_at LIMIT 50
            """))
        for row in due {
            let id = try row.string("id")
            guard let claimed = try await platform.database.first(SQL("""
                UPDATE pam_notifications SET next_attempt_at = \(now.addingTimeInterval(30)) WHERE id = \(id) AND next_attempt_at <= \(now) RETURNING *
                """)) else { continue }
            let projectId = try claimed.string("project_id")
            do {
                guard let settings = try await platform.database.first(SQL("SELECT * FROM pam_notification_settings WHERE project_id = \(projectId)")) else {
                    try await platform.database.query(SQL("UPDATE pam_notifications SET attempts = \(Self.maxAttempts), last_error = 'no webhook' WHERE id = \(id)"))
                    continue
                }
                let secret = try platform.sealer.open(try settings.string("sealed_secret"), context: PAMNotifications.sealingContext + "/" + projectId)
                try await send(url: try settings.string("url"), body: Array(try claimed.string("payload").utf8), secret: secret)
                try await platform.database.query(SQL("UPDATE pam_notifications SET delivered_at = \(platform.clock.now()), attempts = attempts + 1 WHERE id = \(id)"))
            } catch {
                let attempts = Int(try claimed.int("attempts")) + 1
                let backoff = min(300, 2 * pow(2, Double(attempts))) * Double.random(in: 0.5...1)
                _ = try? await platform.database.query(SQL("""
                    UPDATE pam_notifications SET attempts = \(attempts), last_error = \(String("\(error)".prefix(500))),
                        next_attempt_at = \(platform.clock.now().addingTimeInterval(backoff)) WHERE id = \(id)
                    """))
            }
        }
    }

    func send(url: String, body: [UInt8], secret: String) async throws {
        guard let host = URLComponents(string: url)?.host else { throw EgressRefusal("the webhook URL has no host") }
        let client = try await clients.client(host: host)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "kms-pam-notifications")
        request.headers.add(name: Webhook.signatureHeader, value: Webhook.signature(body: body, secret: secret))
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .seconds(10))
        _ = try? await response.body.collect(upTo: 64 * 1024)
        guard (200..<300).contains(response.status.code) else { throw EgressRefusal("the webhook answered \(response.status.code)") }
    }
}
