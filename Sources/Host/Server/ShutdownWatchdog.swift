import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The last word on shutdown: once a graceful shutdown begins, the process exits within
/// `limit` even if some task ignores cancellation, with a log line saying so, instead of
/// hanging (a supervisor would have to SIGKILL it) or crashing with a backtrace. Disarmed once
/// the services have stopped, so closing the store afterwards is never cut short.
final class ShutdownWatchdog: Service, Sendable {
    let limit: Duration
    let logger: Logger
    private let state = Mutex<(disarmed: Bool, timer: DispatchWorkItem?)>((false, nil))

    init(limit: Duration, logger: Logger) {
        self.limit = limit
        self.logger = logger
    }

    func run() async throws {
        // Returns when shutdown begins (or the group is cancelled).
        try? await gracefulShutdown()
        let (limit, logger) = (self.limit, self.logger)
        let timer = DispatchWorkItem {
            logger.error("shutdown did not finish in time; exiting", metadata: ["limit": "\(limit)"])
            exit(1)
        }
        let armed = state.withLock { s -> Bool in
            guard !s.disarmed else { return false }
            s.timer = timer
            return true
        }
        guard armed else { return }
        // A plain thread timer: it must fire even if the cooperative pool is wedged.
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(limit.nanoseconds)), execute: timer)
    }

    /// Called once the services have stopped: the exit no longer fires.
    func disarm() {
        state.withLock { s in
            s.disarmed = true
            s.timer?.cancel()
        }
    }
}
