import Core
import Foundation
import Testing

@Suite struct FailureAuditBudgetTests {
    @Test func oneSourceCannotUseUpTheOrganizationsRoom() {
        let budget = FailureAuditBudget(perWindow: 20, perSource: 5, window: 60)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let flood = (0..<100).filter { _ in budget.admit(orgId: "o", source: "203.0.113.9", now: now).admitted }.count
        #expect(flood == 5)
        // Other sources still get entries, up to the organization's cap; the first carries the flood's count.
        let others = (0..<30).map { budget.admit(orgId: "o", source: "198.51.100.\($0)", now: now) }
        #expect(others.filter(\.admitted).count == 15)
        #expect(others.first?.suppressedBefore == 95)
        // Another organization is not affected.
        #expect(budget.admit(orgId: "p", source: "203.0.113.9", now: now).admitted)
        // Next window: the first entry carries what was left out.
        let next = budget.admit(orgId: "o", source: "198.51.100.1", now: now.addingTimeInterval(61))
        #expect(next.admitted)
        #expect(next.suppressedBefore == 15)
    }
}
