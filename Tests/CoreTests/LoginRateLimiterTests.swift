import Core
import Foundation
import Testing

@Suite struct LoginRateLimiterTests {
    @Test func oneClientIsHeldToItsRateAndOthersAreNot() {
        let limiter = LoginRateLimiter(perClientRate: 2, perClientBurst: 5, globalRate: 100, globalBurst: 8)
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
}
