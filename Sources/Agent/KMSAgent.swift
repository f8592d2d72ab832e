import AsyncHTTPClient
import CLISupport
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `kms agent`: logs in with the configured method, keeps the token and AWS credentials fresh,
/// and hands them over as files, the container-credentials endpoint, the control socket and
/// templates (../shared/agent.md).
public struct KMSAgent: Sendable {
    let config: AgentConfig
    let method: any AgentLoginMethod
    let logger: Logger

    /// `logins`: the methods the build's auth plugins contribute; `token` is the agent's own.
    public init(configPath: String, logins: [any AgentLoginMethod]) throws {
        let loaded = try AgentConfig.load(configPath)
        config = loaded
        let methods = logins + [TokenFileLogin()]
        guard let method = methods.first(where: { $0.name == loaded.auth["method"] }) else {
            throw AgentError("auth.method must be one of \(methods.map(\.name).sorted().joined(separator: ", "))")
        }
        self.method = method
        var logger = Logger(label: "kms-agent")
        logger.logLevel = .info
        self.logger = logger
    }

    struct Parts: Sendable {
        let tokens: TokenKeeper
        let keepers: [String: AWSCredentialKeeper]
        let templates: AgentTemplates
        let metrics: AgentMetrics
        let versions = RenderVersions()
    }

    func parts() throws -> Parts {
        let metrics = AgentMetrics()
        let server = config.server ?? ""
        let tokens = TokenKeeper(server: server, method: method, settings: config.auth, sinks: (config.tokenSinks ?? []).map(\.path),
                                 renewAt: config.renewAt ?? 0.67, logger: logger, metrics: metrics)
        var keepers: [String: AWSCredentialKeeper] = [:]
        for entry in config.awsCredentials ?? [] {
            keepers[entry.name] = try AWSCredentialKeeper(entry: entry, server: server, tokens: tokens, logger: logger, metrics: metrics)
        }
        return Parts(tokens: tokens, keepers: keepers, templates: try AgentTemplates(config.templates ?? [], logger: logger), metrics: metrics)
    }

    /// Renders every template from what is held now. A render that read older state than one
    /// already written is skipped, so concurrent changes never leave an older key in a file.
    static func render(_ parts: Parts, waitForCommands: Bool = false) async throws {
        let version = parts.versions.next()
        var aws: [String: AWSCredentialKeeper.Held] = [:]
        for (name, keeper) in parts.keepers { if let held = await keeper.current { aws[name] = held } }
        try await parts.templates.render(version: version, token: await parts.tokens.token, aws: aws, waitForCommands: waitForCommands)
    }

    /// `--once`: log in, make each lease, write every sink, file and template, exit.
    public func once() async throws {
        let p = try parts()
        try await p.tokens.login(retrying: false)
        for keeper in p.keepers.values { try await keeper.refresh() }
        try await Self.render(p, waitForCommands: true)
        logger.info("agent wrote everything once")
    }

    /// Runs until SIGTERM or SIGINT; then revokes its leases unless `revokeOnExit: false`.
    public func run() async throws {
        // Everything the agent creates is its own: the control socket is private from the moment
        // it is bound (files are written with explicit modes anyway).
        umask(0o077)
        let p = try parts()
        let logger = self.logger
        // Rendering never holds up the token or the credentials: it runs on its own.
        let rerender: @Sendable () async -> Void = {
            Task { do { try await Self.render(p) } catch { logger.warning("rendering templates failed", metadata: ["error": "\(error)"]) } }
        }
        await p.tokens.setOnChange(rerender)
        for keeper in p.keepers.values { await keeper.setOnChange(rerender) }
        var services: [any Service] = [AgentService(parts: p, revokeOnExit: config.revokeOnExit ?? true, logger: logger)]
        // One endpoint per listen address, each name with its own random token (file 0600).
        var byListen: [String: [String: AgentServer.Entry]] = [:]
        for entry in config.awsCredentials ?? [] {
            guard let endpoint = entry.endpoint, let keeper = p.keepers[entry.name] else { continue }
            let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
            try FileSink.write(token, to: endpoint.authTokenFile)
            byListen[endpoint.listen, default: [:]][entry.name] = AgentServer.Entry(keeper: keeper, token: token)
        }
        let health: @Sendable () async -> (Bool, [String: String]) = {
            var detail: [String: String] = ["token": await p.tokens.fresh ? "fresh" : "missing or expired"]
            var ok = await p.tokens.fresh
            for (name, keeper) in p.keepers {
                let fresh = await keeper.fresh != nil
                detail["aws." + name] = fresh ? "fresh" : "missing or near expiry"
                ok = ok && fresh
            }
            return (ok, detail)
        }
        for (listen, entries) in byListen {
            services.append(try AgentServer.endpoint(listen: listen, entries: entries, health: health, metrics: p.metrics))
        }
        if let socket = config.controlSocket { services.append(AgentServer.control(path: socket, entries: p.keepers)) }
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        try await group.run()
    }
}

/// The agent's own work: the token and every set of AWS credentials kept fresh; on stop, the
/// leases it made are revoked (the token sink stays).
struct AgentService: Service {
    let parts: KMSAgent.Parts
    let revokeOnExit: Bool
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await parts.tokens.loginUntilDone()
            await withDiscardingTaskGroup { group in
                group.addTask { await parts.tokens.keep() }
                for keeper in parts.keepers.values { group.addTask { await keeper.keep() } }
            }
        }
        if revokeOnExit {
            // Unstructured: the agent's own task may be cancelled, the revocations must still run.
            let keepers = Array(parts.keepers.values)
            await Task { for keeper in keepers { await keeper.revokeAll() } }.value
            logger.info("leases revoked on exit")
        }
    }
}

extension TokenKeeper {
    /// The first login, retried until it works or the agent stops.
    func loginUntilDone() async { try? await login() }
}

/// `kms agent credential-process`: the credentials a running agent holds, from its control
/// socket, in the `credential_process` format.
public enum AgentCredentialProcess {
    public static func fetch(socket: String, name: String) async throws -> String {
        let path = socket.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? socket
        var request = HTTPClientRequest(url: "http+unix://\(path)/v1/credentials/\(name)")
        request.method = .GET
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status == .ok else {
            let message = ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any])?["message"] as? String ?? "HTTP \(response.status.code)"
            throw AgentError("the agent at \(socket) has no credentials \(name): \(message)")
        }
        return body
    }
}
