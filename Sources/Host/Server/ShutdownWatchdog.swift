import Foundation
import Logging
import ServiceLifecycle

/// The last word on shutdown: once a graceful shutdown begins, the process exits within
/// `limit` even if some task ignores cancellation, with a log line saying so, instead of
/// hanging (a supervisor would have to SIGKILL it) or crashing with a backtrace.
struct ShutdownWatchdog: Service {
    let limit: Duration
    let logger: Logger

    func run() async throws {
        // Returns when shutdown begins (or the group is cancelled).
        try? await gracefulShutdown()
        let (limit, logger) = (self.limit, self.logger)
        let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
        // A plain thread timer: it must fire even if the cooperative pool is wedged.
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
            logger.error("shutdown did not finish in time; exiting", metadata: ["limit": "\(limit)"])
            exit(1)
        }
    }
}
