import Core
import Foundation
import Testing
@testable import Host

/// The receiver-side chain check, and the rules of the stream routes (the delivery itself is
/// proven end to end against real receivers in tests/e2e/test_audit_streams.py).
@Suite struct AuditStreamTests {
    /// Events as a stream would deliver them.
    static func delivered(_ h: Harness, orgId: String) async throws -> [AuditChainEvent] {
        try await h.platform.audit.entries(orgId: orgId, after: 0, limit: 1000).map(AuditChainEvent.init)
    }

    @Test(arguments: TestStore.allCases)
    func theReceiverFindsGapsEditsAndBrokenLinks(store: TestStore) async throws {
        try await Harness.with(store) { h in
            let orgId = try await h.test { api in try await api.bootstrap().orgId }
            for n in 0..<5 {
                try await h.platform.audit.record(AuditEvent("test-\(n)", orgId: orgId, actor: .system, ipAddress: "10.0.0.\(n)", metadata: ["n": "\(n)", "url": "https://x/y"]))
            }
            let events = try await Self.delivered(h, orgId: orgId)
            let whole = AuditChainCheck.verify(events, from: 1)
            #expect(whole.problem == nil && whole.checked == events.count && whole.first == 1)
            // Any order, duplicates allowed.
            let shuffled = AuditChainCheck.verify(events.reversed() + events.prefix(2), from: 1)
            #expect(shuffled.problem == nil && shuffled.duplicates == 2)
            // The readable copy edited (what a SIEM indexes), the hashed texts left alone.
            var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(events[1])) as? [String: Any])
            object["eventMetadata"] = ["n": "1000"]
            let forged = try JSONDecoder().decode(AuditChainEvent.self, from: JSONSerialization.data(withJSONObject: object))
            #expect(AuditChainCheck.verify([events[0], forged] + events.dropFirst(2)).problem?.contains("readable fields differ") == true)
            #expect(AuditChainCheck.verify([]).problem == "no events received")
            // A gap.
            var gapped = events
            gapped.remove(at: 3)
            #expect(AuditChainCheck.verify(gapped).problem?.contains("gap") == true)
            // Missing at the start.
            #expect(AuditChainCheck.verify(Array(events.dropFirst(2)), from: 1).problem?.contains("missing before") == true)
            // An entry edited in the database is detected by the receiver.
            try await h.platform.database.query("UPDATE audit_log SET event_metadata = '{\"n\":\"99\"}' WHERE org_id = $1 AND event_type = 'test-2'", [.text(orgId)])
            let edited = try await Self.delivered(h, orgId: orgId)
            #expect(AuditChainCheck.verify(edited).problem?.contains("was edited") == true)
            // The same sequence with different content.
            #expect(AuditChainCheck.verify(events + [edited.first { $0.eventType == "test-2" }!]).problem?.contains("different content") == true)
        }
    }

    @Test(arguments: TestStore.allCases)
    func streamsAreAnOrgAdminsAndFilesTheInstanceAdmins(store: TestStore) async throws {
        try await Harness.with(store) { h in
            try await h.test { api in
                let root = try await api.bootstrap()
                let admin = try await api.person(admin: root.token, orgId: root.orgId, email: "admin@acme.com", role: "admin")
                let base = "/api/v1/organizations/\(root.orgId)/audit-log-streams"
                let hook: [String: Any] = ["name": "siem", "kind": "webhook", "url": "http://127.0.0.1:9/hook", "secret": "0123456789abcdef0123",
                                           "headers": ["Authorization": "Splunk very-secret"]]
                let created = try await api.call(.post, base, token: admin.token, json: hook)
                #expect(created.status == 200, "\(created.text)")
                #expect(!created.text.contains("very-secret") && !created.text.contains("0123456789abcdef0123"), "secrets are never returned")
                #expect((created.object("auditLogStream")["headers"] as? [String: String]) == ["Authorization": "****"])
                let file: [String: Any] = ["name": "local", "kind": "file", "path": NSTemporaryDirectory() + "kms-audit-\(UUID().uuidString).jsonl"]
                #expect(try await api.call(.post, base, token: admin.token, json: file).status == 403, "an org admin cannot make the server write files")
                let made = try await api.call(.post, base, token: root.token, json: file)
                #expect(made.status == 200, "\(made.text)")
                let fileId = made.object("auditLogStream")["id"] as? String ?? ""
                #expect(try await api.call(.delete, "\(base)/\(fileId)", token: admin.token).status == 403)
                #expect(try await api.call(.patch, "\(base)/\(fileId)", token: admin.token, json: ["path": "/etc/cron.d/x"]).status == 403)
                // Destinations are checked.
                for (change, words) in [(["url": "https://169.254.169.254/latest"], "internal address"), (["url": "http://example.com/hook"], "https"),
                                        (["secret": "short"], "secret"), (["headers": ["X-KMS-Signature": "forged"]], "set by the server"),
                                        (["headers": ["X-Evil": "a\r\nInjected: 1"]], "one line")] as [([String: Any], String)] {
                    let r = try await api.call(.post, base, token: admin.token, json: hook.merging(change) { _, new in new }.merging(["name": "other"]) { _, new in new })
                    #expect(r.status == 400 && r.text.contains(words), "\(change): \(r.text)")
                }
                let syslog = try await api.call(.post, base, token: admin.token, json: ["name": "rsyslog", "kind": "syslog", "host": "10.1.2.3", "port": 6514])
                #expect(syslog.status == 400 && syslog.text.contains("internal address"))
            }
        }
    }
}
