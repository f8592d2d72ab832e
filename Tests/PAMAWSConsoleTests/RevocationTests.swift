import Core
import Foundation
@testable import PAMAWSConsole
import Testing

@Suite struct RevocationTests {
    @Test func distinctPeopleNeverShareASourceIdentity() {
        let pairs = [("alice.o'neil@example.com", "alice.o-neil@example.com"), ("jürgen@example.com", "j-rgen@example.com"),
                     (String(repeating: "a", count: 55) + "x@example.com", String(repeating: "a", count: 55) + "y@example.com")]
        for (a, b) in pairs {
            let ia = ConsoleAccess.sourceIdentity(for: a), ib = ConsoleAccess.sourceIdentity(for: b)
            #expect(ia != ib, "\(a) / \(b)")
            for id in [ia, ib] {
                #expect((2...64).contains(id.count) && id.hasPrefix("kms-"))
                #expect(id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_+=,.@-".contains($0)) })
            }
        }
        #expect(ConsoleAccess.sourceIdentity(for: "Bob@Example.com") == "kms-bob@example.com", "a clean address stays readable")
    }

    @Test func thePolicyDeniesEachPersonBeforeTheirRevocation() throws {
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let document = try #require(RevocationPolicy.document([PAMRevocation(sourceIdentity: "kms-a@x.com", revokedAt: at),
                                                               PAMRevocation(sourceIdentity: "kms-b@x.com", revokedAt: at.addingTimeInterval(60))]))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any])
        let statements = try #require(json["Statement"] as? [[String: Any]])
        #expect(statements.count == 2)
        let conditions = statements.compactMap { $0["Condition"] as? [String: [String: String]] }
        #expect(conditions.map { $0["StringEquals"]?["aws:SourceIdentity"] } == ["kms-a@x.com", "kms-b@x.com"])
        #expect(conditions.first?["DateLessThan"]?["aws:TokenIssueTime"] == ISO8601Format.string(at))
        #expect(statements.allSatisfy { $0["Effect"] as? String == "Deny" && $0["Action"] as? String == "*" })
        #expect(RevocationPolicy.document([]) == nil, "nothing revoked: the policy is deleted")
    }

    @Test func manyRevocationsMergeIntoOneCoarserDenyWithinTheSizeLimit() throws {
        let base = Date(timeIntervalSince1970: 1_800_000_000)
        let many = (0..<200).map { PAMRevocation(sourceIdentity: "kms-person\($0)@example.com", revokedAt: base.addingTimeInterval(Double($0))) }
        let document = try #require(RevocationPolicy.document(many))
        #expect(document.utf8.count <= RevocationPolicy.sizeBudget)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any])
        let statements = try #require(json["Statement"] as? [[String: Any]])
        #expect(statements.count == 1)
        let condition = statements[0]["Condition"] as? [String: [String: String]]
        #expect(condition?["DateLessThan"]?["aws:TokenIssueTime"] == ISO8601Format.string(base.addingTimeInterval(199)), "everyone issued before the newest revocation")
        #expect(condition?["StringEquals"] == nil)
    }
}
