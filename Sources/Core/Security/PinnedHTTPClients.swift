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
        let address = try await Self.checkedAddress(host, egress)
        if let held = clients[host], held.address == address { return held.client }
        if let stale = clients[host] { Task { try? await stale.client.shutdown() } }
        let client = Self.pinned(host, to: address)
        clients[host] = (address, client)
        return client
    }

    /// Runs `body` with a client for `host` pinned to the address the policy allows now, shut
    /// down when it returns: for rare fetches that keep no client between them.
    public static func once<T: Sendable>(host: String, egress: EgressPolicy, _ body: (HTTPClient) async throws -> T) async throws -> T {
        let client = pinned(host, to: try await checkedAddress(host, egress))
        do {
            let result = try await body(client)
            try? await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// The first address the policy allows for `host` now.
    private static func checkedAddress(_ host: String, _ egress: EgressPolicy) async throws -> String {
        guard let address = try await egress.check(host: host).first else { throw EgressRefusal("\(host) does not resolve") }
        return address
    }

    /// A client that connects to `address` for `host` (TLS still verifies `host`), redirects off.
    private static func pinned(_ host: String, to address: String) -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(10)))
        configuration.dnsOverride = [host: address]
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func shutdown() async {
        for (_, held) in clients { try? await held.client.shutdown() }
        clients = [:]
    }
}
