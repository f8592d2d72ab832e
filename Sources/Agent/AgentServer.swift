import AWSKit
import Foundation
import Hummingbird
import NIOCore

/// The agent's listeners: the AWS container-credentials endpoint with `/healthz` and
/// `/metrics`, and the control socket that `kms agent credential-process` reads.
enum AgentServer {
    struct Entry: Sendable { let keeper: AWSCredentialKeeper; let token: String }

    /// The endpoint on `listen` (host:port) for `entries` (by name).
    static func endpoint(listen: String, entries: [String: Entry], health: @escaping @Sendable () async -> (Bool, [String: String]),
                         metrics: AgentMetrics) throws -> some ApplicationProtocol {
        let parts = listen.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { throw AgentError("endpoint.listen must be HOST:PORT") }
        let router = Router()
        // A web page that rebinds a name to 127.0.0.1 sends its own Host: only the listener's
        // own address and loopback names are answered.
        let host = String(parts[0])
        router.add(middleware: HostCheck(allowed: [host, "127.0.0.1", "localhost", "[::1]"]))
        router.get("/v1/credentials/{name}") { request, context -> Response in
            guard let entry = entries[try context.parameters.require("name")] else { return json(.notFound, ["message": "no such credentials"]) }
            let given = request.headers[.authorization] ?? ""
            guard SigV4Verifier.constantTimeEquals(given, entry.token) || SigV4Verifier.constantTimeEquals(given, "Bearer " + entry.token) else {
                return json(.unauthorized, ["message": "a valid Authorization token is required"])
            }
            guard let held = await entry.keeper.fresh else { return json(.serviceUnavailable, ["message": "no fresh credentials yet"]) }
            return json(.ok, AWSCredentialKeeper.ecs(held))
        }
        router.get("/healthz") { _, _ -> Response in
            let (ok, detail) = await health()
            return json(ok ? .ok : .serviceUnavailable, detail)
        }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: metrics.text)))
        }
        return Application(router: router, configuration: .init(address: .hostname(String(parts[0]), port: port), serverName: nil))
    }

    /// The control socket (a unix socket the agent makes 0600).
    static func control(path: String, entries: [String: AWSCredentialKeeper]) -> some ApplicationProtocol {
        let router = Router()
        router.get("/v1/credentials/{name}") { _, context -> Response in
            guard let keeper = entries[try context.parameters.require("name")] else { return json(.notFound, ["message": "no such credentials"]) }
            guard let held = await keeper.fresh else { return json(.serviceUnavailable, ["message": "no fresh credentials yet"]) }
            return json(.ok, AWSCredentialKeeper.process(held))
        }
        // Only a stale socket is removed, never another kind of file at that path.
        var info = stat()
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFSOCK { unlink(path) }
        return Application(router: router, configuration: .init(address: .unixDomainSocket(path: path)),
                           onServerRunning: { _ in chmod(path, 0o600) })
    }

    /// Refuses requests whose `Host` is not one of the listener's own names (DNS rebinding).
    struct HostCheck<Context: RequestContext>: RouterMiddleware {
        let allowed: Set<String>
        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            let given = request.head.authority ?? ""
            let name = given.hasPrefix("[") ? String(given.prefix { $0 != "]" }) + "]" : String(given.split(separator: ":").first ?? "")
            guard allowed.contains(name.lowercased()) else { return AgentServer.json(.forbidden, ["message": "unexpected Host"]) }
            return try await next(request, context)
        }
    }

    static func json(_ status: HTTPResponse.Status, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
