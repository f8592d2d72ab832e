import Testing
@testable import Core

/// The Authorization header parsing every authenticated request goes through.
@Suite("Bearer header")
struct BearerHeaderTests {
    @Test(arguments: [("Bearer abc.def", "abc.def"), ("bearer abc", "abc"), ("BEARER \t abc \t", "abc"), ("Bearer  x", "x")])
    func acceptsBearerTokens(header: String, token: String) {
        #expect(AuthenticationMiddleware.bearerToken(header) == token)
    }

    @Test(arguments: ["Bearer ", "Bearer    ", "Basic abc", "Bearerabc", "Bearer\u{0}abc", "Bearer", "", "Bëarer abc"])
    func refusesEverythingElse(header: String) {
        #expect(AuthenticationMiddleware.bearerToken(header) == nil)
    }
}
