import Core
import Foundation
import ServiceLifecycle

/// Audit log streams: every organization's audit chain delivered to its SIEM (a webhook, a
/// syslog server, a local file), from the database, in order, at least once, with each event's
/// chain fields so the receiver can prove nothing is missing or edited.
///
/// Settings: `KMS_AUDIT_STREAM_ALLOWED_HOSTS` (internal hosts or ranges streams may name, and
/// for which http and plain TCP are accepted; none by default), `KMS_AUDIT_STREAM_POLL_SECONDS`
/// (1), `KMS_AUDIT_STREAM_BATCH` (500 events).
public struct AuditStreamsPlugin: KMSPlugin {
    public init() {}

    public var name: String { "audit-streams" }
    public var tablePrefix: String { "audit_stream_" }
    public var migrations: [Migration] { AuditStreamMigrations.all(owner: name) }
    public var openAPIPaths: [String: String] { AuditStreamOpenAPI.paths }

    static func egress(_ settings: PluginSettings) -> EgressPolicy {
        EgressPolicy(allowList: settings["KMS_AUDIT_STREAM_ALLOWED_HOSTS"], settingName: "KMS_AUDIT_STREAM_ALLOWED_HOSTS")
    }

    public func register(_ context: PluginContext) throws {
        AuditStreamRoutes(platform: context.platform, store: AuditStreamStore(platform: context.platform),
                          validator: StreamValidator(egress: Self.egress(context.settings))).register(context.routes.authenticated)
    }

    public func services(_ context: PluginServiceContext) throws -> [any Service] {
        let egress = Self.egress(context.settings)
        let poll = try context.settings.seconds("KMS_AUDIT_STREAM_POLL_SECONDS", default: 1, range: 0.05...60)
        let batch = Int(try context.settings.number("KMS_AUDIT_STREAM_BATCH", default: 500))
        let hostname = ProcessInfo.processInfo.hostName.filter { $0.isASCII && !$0.isWhitespace }
        let webhook = WebhookSender(egress: egress)
        return [AuditStreamWorker(store: AuditStreamStore(platform: context.platform),
                                  senders: ["webhook": webhook, "syslog": SyslogSender(egress: egress, hostname: hostname.isEmpty ? "kms" : hostname),
                                            "file": FileSender()],
                                  logger: context.logger, pollInterval: .milliseconds(Int(poll * 1000)), batchSize: min(max(batch, 1), 5000))]
    }
}
