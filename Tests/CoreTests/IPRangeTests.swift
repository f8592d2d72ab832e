@testable import Core
import Testing

@Suite struct IPRangeTests {
    @Test(arguments: [
        ("10.0.0.0/8", "10.200.3.4", true), ("10.0.0.0/8", "11.0.0.1", false),
        ("192.0.2.7", "192.0.2.7", true), ("192.0.2.7", "192.0.2.8", false),
        ("0.0.0.0/0", "203.0.113.9", true), ("0.0.0.0/0", "::1", false),
        ("2001:db8::/32", "2001:db8:1::5", true), ("2001:db8::/32", "2001:db9::1", false),
        ("::/0", "fe80::1", true), ("::1", "::1", true), ("127.0.0.0/8", "::ffff:127.0.0.1", true),
        ("172.16.0.0/12", "172.31.255.255", true), ("172.16.0.0/12", "172.32.0.0", false),
    ])
    func containment(range: String, ip: String, expected: Bool) throws {
        let parsed = try #require(IPRange(range))
        #expect(parsed.contains(ip) == expected)
    }

    @Test(arguments: ["", "10.0.0.0/33", "1.2.3", "1.2.3.4.5", "256.1.1.1", "::1/129", "1:2:3:4:5:6:7:8:9", "abc", "10.0.0.0/-1", "1::2::3"])
    func rejectsMalformed(text: String) {
        #expect(IPRange(text) == nil)
    }

    @Test func describesDefaults() {
        #expect(IPRange.everywhere.map(\.description) == ["0.0.0.0/0", "::/0"])
    }

    @Test func forwardedForIsBelievedOnlyFromTrustedProxies() {
        let proxies = [IPRange("10.0.0.0/8")!]
        #expect(ClientAddressMiddleware.resolve(peer: "203.0.113.5", forwardedFor: ["198.51.100.1"], trustedProxies: proxies) == "203.0.113.5")
        #expect(ClientAddressMiddleware.resolve(peer: "10.1.1.1", forwardedFor: ["198.51.100.1"], trustedProxies: proxies) == "198.51.100.1")
        // The left-most hop is client-controlled: the right-most untrusted hop wins.
        #expect(ClientAddressMiddleware.resolve(peer: "10.1.1.1", forwardedFor: ["1.1.1.1, 198.51.100.1, 10.2.2.2"], trustedProxies: proxies) == "198.51.100.1")
        #expect(ClientAddressMiddleware.resolve(peer: "10.1.1.1", forwardedFor: ["garbage"], trustedProxies: proxies) == "10.1.1.1")
        #expect(ClientAddressMiddleware.resolve(peer: "10.1.1.1", forwardedFor: [], trustedProxies: proxies) == "10.1.1.1")
    }
}

@Suite("IP ranges by address")
struct IPRangeAddressTests {
    @Test func containsByParsedAddressMatchesContainsByText() throws {
        let ranges = ["0.0.0.0/0", "::/0", "10.0.0.0/8", "192.0.2.1", "2001:db8::/32"].compactMap(IPRange.init)
        for ip in ["10.1.2.3", "192.0.2.1", "192.0.2.2", "::ffff:10.0.0.1", "2001:db8::1", "::1"] {
            let address = try #require(IPRange.parseAddress(ip))
            for range in ranges { #expect(range.contains(address: address) == range.contains(ip), "\(range) \(ip)") }
        }
        #expect(IPRange("10.0.0.0/8")!.contains(address: IPRange.parseAddress("::ffff:10.0.0.1")!))
        #expect(!IPRange("10.0.0.0/8")!.contains(address: IPRange.parseAddress("11.0.0.1")!))
    }
}

@Suite("IPv4 parsing edge cases")
struct IPv4ParsingTests {
    @Test(arguments: ["0.0.0.0", "255.255.255.255", "10.0.0.1", "1.10.100.0"])
    func parses(_ text: String) throws {
        let bytes = try #require(IPRange.parseAddress(text))
        #expect(bytes.map(String.init).joined(separator: ".") == text)
    }

    @Test(arguments: ["00.0.0.0", "1.2.3.04", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4 ", "1.2.3.256", "1.2.3.1000", "1.2.3.-1", "١.٢.٣.٤"])
    func refuses(_ text: String) { #expect(IPRange.parseAddress(text) == nil) }
}

@Suite("IP range text")
struct IPRangeTextTests {
    @Test func blanksAroundARangeAreIgnored() {
        #expect(IPRange(" \t10.0.0.0/8 \t") == IPRange("10.0.0.0/8"))
        #expect(IPRange("   ") == nil)
        #expect(ASCIIText.trimmingBlanks("  a b  ") == "a b")
    }
}
