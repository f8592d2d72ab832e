@testable import PAMAWSConsole
import Testing

@Suite struct SessionNameTests {
    @Test func sanitisesToTheAWSCharacterSet() {
        #expect(ConsoleAccess.sessionName(for: "alice@example.com") == "alice@example.com")
        #expect(ConsoleAccess.sessionName(for: "o'neil+ops@example.com") == "o-neil+ops@example.com")
        #expect(ConsoleAccess.sessionName(for: "jürgen müller@example.com") == "j-rgen-m-ller@example.com")
    }

    @Test func longNamesStayDistinctAndWithinSixtyFourCharacters() {
        let a = String(repeating: "a", count: 70) + "@example.com"
        let b = String(repeating: "a", count: 70) + "@example.org"
        let na = ConsoleAccess.sessionName(for: a), nb = ConsoleAccess.sessionName(for: b)
        #expect(na.count == 64 && nb.count == 64)
        #expect(na != nb)
        #expect(na.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_+=,.@-".contains($0)) })
    }
}
