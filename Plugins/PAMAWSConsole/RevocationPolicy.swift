import Core
import Foundation

/// The `kms-pam-revocations` inline policy of a target role: per revoked person, deny
/// everything to sessions that carry their source identity and were issued before their
/// revocation. Near IAM's size limit for a role's inline policies (10,240 characters), the
/// statements merge into one coarser deny: every session issued before the newest revocation.
enum RevocationPolicy {
    static let name = "kms-pam-revocations"
    /// Room left for the role's other inline policies.
    static let sizeBudget = 6_000

    /// The document, or nil when nothing is revoked (the policy is then deleted).
    static func document(_ revocations: [PAMRevocation]) -> String? {
        guard !revocations.isEmpty else { return nil }
        let statements = revocations.sorted { $0.sourceIdentity < $1.sourceIdentity }.map { r in
            statement(sid: "Revoked" + SecureRandom.sha256Hex(r.sourceIdentity).prefix(16),
                      conditions: ["StringEquals": ["aws:SourceIdentity": r.sourceIdentity], "DateLessThan": ["aws:TokenIssueTime": ISO8601Format.string(r.revokedAt)]])
        }
        let full = render(statements)
        if full.utf8.count <= sizeBudget { return full }
        let newest = revocations.map(\.revokedAt).max()!
        return render([statement(sid: "RevokedAllBefore", conditions: ["DateLessThan": ["aws:TokenIssueTime": ISO8601Format.string(newest)]])])
    }

    private static func statement(sid: String, conditions: [String: [String: String]]) -> [String: Any] {
        ["Sid": sid, "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": conditions]
    }

    private static func render(_ statements: [[String: Any]]) -> String {
        let document: [String: Any] = ["Version": "2012-10-17", "Statement": statements]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
