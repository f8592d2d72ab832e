import Foundation
import Synchronization

/// Where Core reads the time. Production uses the system clock; tests move a manual one.
public struct TimeSource: Sendable {
    private let read: @Sendable () -> Date

    public init(_ read: @escaping @Sendable () -> Date) { self.read = read }

    public func now() -> Date { read() }

    /// The system clock.
    public static let system = TimeSource { Date() }
}

/// A clock for tests that only moves when told.
public final class ManualClock: Sendable {
    private let current: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = Mutex(start) }

    public func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }

    public var source: TimeSource { TimeSource { self.current.withLock { $0 } } }
}
