import Core
import Foundation
import Testing

@Suite struct LoginRateLimiterTests {
    @Test func oneClientIsHeldToItsRateAndOthersAreNot() throws {
        let limiter = try LoginRateLimiter(perClientRate: 2, perClientBurst: 5, globalRate: 100, globalBurst: 8)
        let start = ContinuousClock.now
        let flood = (0..<20).map { _ in limiter.admit(client: "203.0.113.9", now: start) }
        #expect(flood.filter { $0 == nil }.count == 5, "the burst, then refusals")
        #expect(flood.last! == 1, "Retry-After in whole seconds")
        // Another client is admitted, until the global burst is spent too.
        let others = (0..<10).map { limiter.admit(client: "198.51.100.\($0)", now: start) }
        #expect(others.filter { $0 == nil }.count == 3)
        // Tokens come back with time: two a second for the flooding client.
        let later = start.advanced(by: .seconds(1))
        #expect(limiter.admit(client: "203.0.113.9", now: later) == nil)
        #expect(limiter.admit(client: "203.0.113.9", now: later) == nil)
        #expect(limiter.admit(client: "203.0.113.9", now: later) != nil)
    }

    @Test func memoryIsBoundedAndFullBucketsAreForgotten() throws {
        let limiter = try LoginRateLimiter(perClientRate: 1, perClientBurst: 2, globalRate: 1_000_000, globalBurst: 1_000_000, maxClients: 100)
        let start = ContinuousClock.now
        for i in 0..<1000 { _ = limiter.admit(client: "10.0.\(i / 256).\(i % 256)", now: start) }
        #expect(limiter.trackedClients <= 101, "new clients past the cap share one bucket")
        // Once their buckets have refilled, clients are forgotten and room comes back.
        _ = limiter.admit(client: "10.9.9.9", now: start.advanced(by: .seconds(10)))
        #expect(limiter.trackedClients <= 2)
    }

    @Test func nonsenseSettingsAreRefused() {
        #expect(throws: APIError.self) { try LoginRateLimiter(perClientRate: 0) }
        #expect(throws: APIError.self) { try LoginRateLimiter(perClientBurst: 0.5) }
        #expect(throws: APIError.self) { try LoginRateLimiter(globalRate: .infinity) }
    }

    @Test func anIPv6HostCountsAsItsSlash64() {
        #expect(ClientKey.of("2001:db8:1:2:aaaa::1") == ClientKey.of("2001:db8:1:2:ffff:ffff:ffff:ffff"))
        #expect(ClientKey.of("2001:db8:1:3::1") != ClientKey.of("2001:db8:1:2::1"))
        #expect(ClientKey.of("203.0.113.9") == "203.0.113.9")
        #expect(ClientKey.of(nil) == "-")
    }
}
