import Foundation
import Synchronization

/// The agent's Prometheus metrics (text exposition on the endpoint's `/metrics`).
final class AgentMetrics: Sendable {
    private let counters = Mutex<[String: Double]>([:])
    private let gauges = Mutex<[String: Double]>([:])

    func count(_ name: String, labels: String = "") { counters.withLock { $0[name + labels, default: 0] += 1 } }
    func set(_ name: String, labels: String = "", _ value: Double) { gauges.withLock { $0[name + labels] = value } }

    var text: String {
        let c = counters.withLock { $0 }, g = gauges.withLock { $0 }
        var lines: [String] = []
        for (key, value) in c.sorted(by: { $0.key < $1.key }) { lines.append("\(key) \(value)") }
        for (key, value) in g.sorted(by: { $0.key < $1.key }) { lines.append("\(key) \(value)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Increasing numbers for template renders, so an older snapshot never overwrites a newer one.
final class RenderVersions: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}
