import Core
import Testing
@testable import Console

@Suite("Console form codec")
struct FormCodecTests {
    @Test func placeholder() { #expect(FormCodec.items("a, b\nc") == ["a", "b", "c"]) }
}
