import AsyncHTTPClient
import NIOCore

/// HTTP clients that connect to an address the egress policy checked, not to a second lookup
/// of the name (DNS rebinding): one client per host, pinned with `dnsOverride` (so TLS still
/// verifies the name), replaced when the checked address changes. Redirects are off.
public actor PinnedHTTPClients {
    private var clients: [String: (address: String, client: HTTPClient)] = [:]
    let egress: EgressPolicy

    public init(egress: EgressPolicy) { self.egress = egress }

    /// A client for `host` pinned to the address the policy allows now; throws
    /// ``EgressRefusal`` when it allows none.
    public func client(host: String) async throws -> HTTPClient {
        guard let address = try await egress.check(host: host).first else { throw EgressRefusal("\(host) does not resolve") }
        if let held = clients[host], held.address == address { return held.client }
        if let stale = clients[host] { Task { try? await stale.client.shutdown() } }
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(10)))
        configuration.dnsOverride = [host: address]
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        clients[host] = (address, client)
        return client
    }

    /// Runs `body` with a client for `host` pinned to the address the policy allows now, shut
    /// down when it returns: for rare fetches that keep no client between them.
    public static func once<T: Sendable>(host: String, egress: EgressPolicy, _ body: (HTTPClient) async throws -> T) async throws -> T {
        guard let address = try await egress.check(host: host).first else { throw EgressRefusal("\(host) does not resolve") }
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(10)))
        configuration.dnsOverride = [host: address]
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let result = try await body(client)
            try? await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    public func shutdown() async {
        for (_, held) in clients { try? await held.client.shutdown() }
        clients = [:]
    }
}
