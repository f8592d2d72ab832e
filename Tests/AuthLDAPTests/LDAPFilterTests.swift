@testable import AuthLDAP
import Testing

@Suite struct LDAPFilterTests {
    @Test func escapesEverySpecialCharacter() {
        #expect(LDAPFilter.escape("*)(uid=*") == "\\2a\\29\\28uid=\\2a")
        #expect(LDAPFilter.escape("a\\b") == "a\\5cb")
        #expect(LDAPFilter.escape("nul\u{0}") == "nul\\00")
        #expect(LDAPFilter.escape("jörg") == "j\\c3\\b6rg")
        #expect(LDAPFilter.escape("alice.smith-1") == "alice.smith-1")
    }

    @Test func rendersTheUserNameAsAValueOnly() {
        let filter = LDAPFilter.render("(&(objectClass=inetOrgPerson)(uid={{username}}))", username: "*)(|(uid=*")
        #expect(filter == "(&(objectClass=inetOrgPerson)(uid=\\2a\\29\\28|\\28uid=\\2a))")
        #expect(LDAPAuthProvider.balanced(filter))
    }

    @Test func validatesFilterShapeAndAttributeNames() {
        #expect(LDAPAuthProvider.balanced("(&(a=b)(c=d))"))
        #expect(!LDAPAuthProvider.balanced("(a=b))("))
        #expect(LDAPAuthProvider.isAttributeName("memberOf"))
        #expect(!LDAPAuthProvider.isAttributeName("1.1"))
        #expect(!LDAPAuthProvider.isAttributeName("cn;binary"))
    }
}
