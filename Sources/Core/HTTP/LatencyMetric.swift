import Metrics

/// A latency histogram on `/metrics` that a plugin can keep without depending on swift-metrics
/// itself: `measure` times one operation (successful or not).
public struct LatencyMetric: Sendable {
    private let timer: Metrics.Timer

    public init(label: String, dimensions: [(String, String)] = []) {
        timer = Metrics.Timer(label: label, dimensions: dimensions)
    }

    /// Runs `body` and records how long it took.
    public func measure<T>(_ body: () async throws -> T) async rethrows -> T {
        let started = ContinuousClock.now
        defer { record(since: started) }
        return try await body()
    }

    /// Records the time from `start` to `end` (now by default).
    public func record(since start: ContinuousClock.Instant, to end: ContinuousClock.Instant = .now) {
        timer.recordNanoseconds((end - start).nanoseconds)
    }
}
