import Foundation
import Synchronization

/// Runs CPU-heavy blocking work (argon2) off the event loops, on dedicated threads, with
/// bounded concurrency and a bounded queue: under a flood of logins the server keeps answering
/// everything else, and the excess is refused with 503 instead of queueing without end.
public final class BlockingWorkPool: Sendable {
    private struct State { var running = 0; var waiters: [CheckedContinuation<Void, Never>] = [] }
    private let state = Mutex(State())
    private let queue: DispatchQueue
    /// How many jobs run at once.
    public let concurrency: Int
    /// How many jobs may wait for a slot before new ones are refused.
    public let maxWaiting: Int
    /// The 503's message when the queue is full.
    let busyMessage: String

    public init(label: String, concurrency: Int, maxWaiting: Int, busyMessage: String = "too many password checks in progress; retry shortly") {
        self.concurrency = max(1, concurrency)
        self.maxWaiting = max(0, maxWaiting)
        self.busyMessage = busyMessage
        queue = DispatchQueue(label: label, attributes: .concurrent)
    }

    /// The pool for password hashing: one thread fewer than the cores (at least one), so the
    /// event loops always have a core.
    public static let passwords = BlockingWorkPool(label: "kms.passwords",
                                                   concurrency: max(1, ProcessInfo.processInfo.activeProcessorCount - 1), maxWaiting: 256)

    /// How many jobs wait for a slot now.
    public var waiting: Int { state.withLock { $0.waiters.count } }

    /// Runs `work` on a pool thread once a slot is free.
    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        // A caller that went away while queued does not cost a hash.
        try Task.checkCancellation()
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    private func acquire() async throws {
        enum Decision { case run, wait, refuse }
        // The decision and the enqueue happen under one lock so a release never misses a waiter.
        var decision = Decision.refuse
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            state.withLock { s in
                if s.running < concurrency {
                    s.running += 1
                    decision = .run
                } else if s.waiters.count < maxWaiting {
                    s.waiters.append(continuation)
                    decision = .wait
                } else {
                    decision = .refuse
                }
            }
            if decision != .wait { continuation.resume() }
        }
        if decision == .refuse { throw APIError.unavailable(busyMessage) }
    }

    private func release() {
        let next: CheckedContinuation<Void, Never>? = state.withLock { s in
            if s.waiters.isEmpty {
                s.running -= 1
                return nil
            }
            return s.waiters.removeFirst()  // the slot passes straight to the next waiter
        }
        next?.resume()
    }
}
