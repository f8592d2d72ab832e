@testable import Core
import Foundation
import Testing

@Suite("Hand-written JSON")
struct JSONTextTests {
    @Test func escapesAndParsesBack() throws {
        var out = JSONText()
        out.add("s", "quote \" back \\ newline \n tab \t bell \u{07} é 🔑")
        out.add("none", nil as String?)
        out.add("n", -42)
        out.add("list", ["a", "b\"c"])
        out.add("when", Date(timeIntervalSince1970: 1.5))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(out.json.utf8)) as? [String: Any])
        #expect(parsed["s"] as? String == "quote \" back \\ newline \n tab \t bell \u{07} é 🔑")
        #expect(parsed["none"] == nil)
        #expect(parsed["n"] as? Int == -42)
        #expect(parsed["list"] as? [String] == ["a", "b\"c"])
        #expect(parsed["when"] as? String == "1970-01-01T00:00:01.500Z")
    }
}

@Suite("Hand-written JSON arrays")
struct JSONArrayTests {
    @Test func arraysParseBack() throws {
        for values in [[], ["0.0.0.0/0", "::/0"], ["a\"b", "é\\", "\u{01}"]] {
            let text = JSONText.array(values)
            #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String] == values)
        }
    }
}
