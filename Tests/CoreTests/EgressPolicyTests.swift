@testable import Core
import Testing

@Suite struct EgressPolicyTests {
    let policy = EgressPolicy(allowList: nil, settingName: "KMS_TEST_ALLOWED_HOSTS")

    @Test func refusesInternalAddresses() {
        for address in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
                        "::1", "::", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "224.0.0.1"] {
            #expect(policy.refusal(address: address) != nil, "\(address)")
        }
    }

    @Test func admitsPublicAddresses() {
        for address in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "172.32.0.1"] {
            #expect(policy.refusal(address: address) == nil, "\(address)")
        }
    }

    @Test func theOperatorMayAllowHostsAndRanges() async throws {
        let allowing = EgressPolicy(allowList: "localhost, 10.0.0.0/8", settingName: "KMS_TEST_ALLOWED_HOSTS")
        #expect(allowing.refusal(address: "10.9.9.9") == nil)
        #expect(allowing.refusal(address: "192.168.0.1") != nil)
        #expect(try await allowing.check(host: "localhost").isEmpty == false)
        await #expect(throws: EgressRefusal.self) { try await policy.check(host: "localhost") }
        await #expect(throws: EgressRefusal.self) { try await policy.check(host: "127.0.0.1") }
        await #expect(throws: EgressRefusal.self) { try await policy.check(host: "[::1]") }
        // Judged as getaddrinfo reads them: octal 012 is 10, 0x7f is 127.
        await #expect(throws: EgressRefusal.self) { try await policy.check(host: "012.0.0.1") }
        await #expect(throws: EgressRefusal.self) { try await policy.check(host: "0x7f.0.0.1") }
        await #expect(throws: EgressRefusal.self) { try await policy.check(host: "2130706433") }
        #expect(IPRange("012.0.0.1") == nil, "leading zeros are ambiguous and refused")
    }
}
