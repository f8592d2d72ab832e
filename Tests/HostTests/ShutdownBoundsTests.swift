import Foundation
import ServiceLifecycle
import Synchronization
import Testing
@testable import Host

/// What keeps a stuck upstream from stalling requests or the server's start and stop.
@Suite("Shutdown and deadline bounds")
struct ShutdownBoundsTests {
    struct Late: Error {}

    @Test(.timeLimit(.minutes(1))) func deadlineAnswersEvenWhenTheBodyIgnoresCancellation() async throws {
        let never = ParkedWait()
        await #expect(throws: Late.self) {
            try await raceDeadline(.milliseconds(50), timeout: { Late() }) {
                await never.park()  // ignores cancellation, like a driver call on a dead connection
                return 1
            }
        }
        never.release()
    }

    @Test func deadlinePassesTheBodysAnswerAndError() async throws {
        let value = try await raceDeadline(.seconds(30), timeout: { Late() }) { 42 }
        #expect(value == 42)
        struct Failed: Error {}
        await #expect(throws: Failed.self) {
            try await raceDeadline(.seconds(30), timeout: { Late() }) { () async throws -> Int in throw Failed() }
        }
    }

    @Test(.timeLimit(.minutes(1))) func deadlineEndsWhenTheCallerIsCancelled() async throws {
        let never = ParkedWait()
        let call = Task {
            try await raceDeadline(.seconds(30), timeout: { Late() }) { await never.park(); return 1 }
        }
        call.cancel()
        await #expect(throws: CancellationError.self) { try await call.value }
        never.release()
    }

    @Test func gatedServiceStartsOnlyOnceTheGateOpens() async throws {
        let gate = StartGate()
        let started = Mutex(false)
        let service = gate.hold(Probe { started.withLock { $0 = true } })
        let run = Task { try await service.run() }
        // Until the service is either waiting at the gate or (wrongly) running.
        while !gate.hasWaiters, !started.withLock({ $0 }) { await Task.yield() }
        #expect(started.withLock { $0 } == false)
        gate.open()
        try await run.value
        #expect(started.withLock { $0 } == true)
    }

    @Test func gatedServiceNeverStartsIfStoppedFirst() async throws {
        let gate = StartGate()
        let started = Mutex(false)
        let run = Task { try await gate.hold(Probe { started.withLock { $0 = true } }).run() }
        run.cancel()
        try await run.value
        gate.open()
        #expect(started.withLock { $0 } == false)
    }

    struct Probe: Service {
        let onRun: @Sendable () -> Void
        func run() async throws { onRun() }
    }
}

/// A wait that ignores cancellation until released.
final class ParkedWait: Sendable {
    private let state = Mutex<(released: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    func park() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.released { return true }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }
    func release() {
        state.withLock { s in defer { s = (true, []) }; return s.waiters }.forEach { $0.resume() }
    }
}
