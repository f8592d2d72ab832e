import Foundation
import ServiceLifecycle
import Synchronization

/// Holds background services back until the schema is migrated, so a fresh database never
/// sees a reaper or notifier query a table that does not exist yet.
final class StartGate: Sendable {
    private struct State {
        var open = false
        var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    }
    private let state = Mutex(State())

    /// Whether a service is waiting at the gate (for tests).
    var hasWaiters: Bool { state.withLock { !$0.waiters.isEmpty } }

    /// Lets every waiting service start.
    func open() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.open = true
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns once the gate is open or the task is cancelled (check which before going on).
    func wait() async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { s -> Bool in
                    if s.open || Task.isCancelled { return true }
                    s.waiters[id] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// `service`, started only once the gate opens; if the server stops first, it never starts.
    func hold(_ service: any Service) -> any Service { GatedService(service: service, gate: self) }
}

private struct GatedService: Service, CustomStringConvertible {
    let service: any Service
    let gate: StartGate

    var description: String { String(describing: service) }

    func run() async throws {
        await cancelWhenGracefulShutdown { await gate.wait() }
        guard !Task.isCancelled, !Task.isShuttingDownGracefully else { return }
        try await service.run()
    }
}
