import Core
import Foundation
import Synchronization
import Testing

@Suite struct BlockingWorkPoolTests {
    @Test func runsAtMostItsConcurrencyAndRefusesPastItsQueue() async throws {
        let pool = BlockingWorkPool(label: "test", concurrency: 2, maxWaiting: 3)
        let counters = Counters()
        let gate = DispatchSemaphore(value: 0)
        // 2 run, 3 wait, the 6th and 7th are refused while all of those are held.
        let results = await withTaskGroup(of: Result<Int, any Error>.self) { group in
            for i in 0..<5 {
                group.addTask {
                    await Result(catching: {
                        try await pool.run {
                            let now = counters.running.withLock { $0 += 1; return $0 }
                            counters.peak.withLock { $0 = max($0, now) }
                            gate.wait()
                            counters.running.withLock { $0 -= 1 }
                            return i
                        }
                    })
                }
            }
            // Let the five take their places (two running, three waiting) before the overflow arrives.
            while counters.running.withLock({ $0 }) < 2 || pool.waiting < 3 { await Task.yield() }
            for _ in 0..<2 {
                group.addTask { await Result(catching: { try await pool.run { -1 } }) }
            }
            var out: [Result<Int, any Error>] = []
            var released = false
            for await result in group {
                out.append(result)
                if !released, out.count == 2 {
                    released = true
                    for _ in 0..<5 { gate.signal() }
                }
            }
            return out
        }
        let refused = results.filter { if case .failure(let e) = $0 { (e as? APIError)?.code == .serviceUnavailable } else { false } }
        #expect(refused.count == 2, "the queue is bounded")
        #expect(results.filter { if case .success(let v) = $0 { v >= 0 } else { false } }.count == 5)
        #expect(counters.peak.withLock { $0 } == 2, "never more than the pool's concurrency at once")
    }

    @Test func passwordsAreHashedOffTheCallersThread() async throws {
        let hasher = PasswordHasher(memoryKiB: 1024, iterations: 1)
        let hash = try await hasher.hashOffLoop("a long enough password")
        #expect(try await hasher.verifyOffLoop("a long enough password", hash: hash))
        #expect(try await !hasher.verifyOffLoop("another password", hash: hash))
    }
}

final class Counters: Sendable {
    let running = Mutex(0)
    let peak = Mutex(0)
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
