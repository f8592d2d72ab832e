import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// A Hummingbird server on a free loopback port, for fake metadata, federation and failing
/// endpoints. Stopped when `body` returns.
enum LocalServer {
    static func with<T: Sendable>(_ router: Router<BasicRequestContext>, _ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
        let port = Mutex<Int?>(nil)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } })
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await app.run(); return nil }
            var bound: Int?
            for _ in 0..<200 {
                bound = port.withLock { $0 }
                if bound != nil { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            guard let bound else { throw TestError("local server did not start") }
            defer { group.cancelAll() }
            return try await body("http://127.0.0.1:\(bound)")
        }
    }
}

/// A thread-safe counter for requests seen by a fake server.
final class Counter: Sendable {
    private let value = Mutex(0)
    @discardableResult func next() -> Int { value.withLock { $0 += 1; return $0 } }
    var count: Int { value.withLock { $0 } }
    func reset() { value.withLock { $0 = 0 } }
}
