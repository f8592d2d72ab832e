import AWSKit
import CLISupport
import Foundation
import Logging

/// Keeps a valid access token: logs in, renews at `renewAt` of the token's TTL, logs in again
/// when renewal is refused or the max TTL is near, and retries failures with capped, jittered
/// backoff. Every new token goes to the sinks at once (atomically, 0600).
actor TokenKeeper {
    let server: String
    let method: any AgentLoginMethod
    let settings: [String: String]
    let sinks: [String]
    let renewAt: Double
    let logger: Logger
    let metrics: AgentMetrics
    private(set) var token: String?
    private var expiresAt = Date.distantPast
    private var maxExpiresAt = Date.distantPast
    private var waiters: [CheckedContinuation<Void, Never>] = []
    var onChange: (@Sendable () async -> Void)?

    init(server: String, method: any AgentLoginMethod, settings: [String: String], sinks: [String], renewAt: Double, logger: Logger, metrics: AgentMetrics) {
        self.server = server
        self.method = method
        self.settings = settings
        self.sinks = sinks
        self.renewAt = renewAt
        self.logger = logger
        self.metrics = metrics
    }

    func setOnChange(_ handler: @escaping @Sendable () async -> Void) { onChange = handler }

    /// Whether the token is valid now.
    var fresh: Bool { token != nil && expiresAt > Date() }

    /// The current token, waiting for the first login.
    func current() async -> String {
        while token == nil { await withCheckedContinuation { waiters.append($0) } }
        return token!
    }

    /// One login (with retries unless `once`); the token goes to the sinks.
    func login(retrying: Bool = true) async throws {
        var attempt = 0
        while true {
            do {
                let answer = try await method.login(server: server, settings: settings)
                metrics.count("kms_agent_logins_total")
                try await adopt(answer.accessToken, expiresIn: answer.expiresIn, maxTTL: answer.accessTokenMaxTTL, newLogin: true)
                logger.info("logged in", metadata: ["method": "\(method.name)", "expiresIn": "\(answer.expiresIn)"])
                return
            } catch {
                metrics.count("kms_agent_login_failures_total")
                guard retrying, !Task.isCancelled else { throw error }
                attempt += 1
                let delay = Backoff.delay(attempt: attempt)
                logger.warning("login failed; retrying", metadata: ["method": "\(method.name)", "error": "\(error)", "retryInSeconds": "\(Int(delay))"])
                try await Task.sleep(for: .seconds(delay))
            }
        }
    }

    private func adopt(_ newToken: String, expiresIn: Int, maxTTL: Int?, newLogin: Bool) async throws {
        let now = Date()
        token = newToken
        expiresAt = now.addingTimeInterval(TimeInterval(max(1, expiresIn)))
        if newLogin { maxExpiresAt = maxTTL.map { $0 > 0 ? now.addingTimeInterval(TimeInterval($0)) : .distantFuture } ?? .distantFuture }
        for sink in sinks { try FileSink.write(newToken, to: sink) }
        let ready = waiters
        waiters = []
        for waiter in ready { waiter.resume() }
        await onChange?()
    }

    /// Runs until cancelled: renew at `renewAt` of the TTL, log in again when renewal is
    /// refused or would not reach the next renewal before the max TTL.
    func keep() async {
        while !Task.isCancelled {
            let ttl = max(1, expiresAt.timeIntervalSince(Date()))
            try? await Task.sleep(for: .seconds(max(0.2, ttl * renewAt)))
            if Task.isCancelled { return }
            let remainingToMax = maxExpiresAt.timeIntervalSince(Date())
            if let token, remainingToMax > ttl * (1 - renewAt) + 1 {
                if let renewed = try? await Self.renew(server: server, token: token), renewed.expiresIn > 0 {
                    metrics.count("kms_agent_renewals_total")
                    do {
                        try await adopt(renewed.token, expiresIn: renewed.expiresIn, maxTTL: nil, newLogin: false)
                        continue
                    } catch {
                        logger.error("writing the token sink failed", metadata: ["error": "\(error)"])
                        try? await Task.sleep(for: .seconds(Backoff.delay(attempt: 3)))
                        continue
                    }
                }
                logger.info("renewal refused; logging in again")
            }
            try? await login()
        }
    }
}

extension TokenKeeper {
    /// Renews a token (outside the actor: JSON bodies are not Sendable); the answer's token, if
    /// it sends one, replaces ours.
    static func renew(server: String, token: String) async throws -> (token: String, expiresIn: Int) {
        let answer = try await APIClient(baseURL: server, token: "").call(.POST, "/api/v1/auth/token/renew", body: ["accessToken": token])
        return ((answer["accessToken"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? token, answer["expiresIn"] as? Int ?? 0)
    }
}

/// Capped, jittered exponential backoff: 1 s doubling to 30 s, each 50-100 %.
enum Backoff {
    static func delay(attempt: Int) -> Double {
        min(30, pow(2, Double(min(attempt, 6) - 1))) * Double.random(in: 0.5...1)
    }
}

/// `auth.method: token`: a token given in a file (Token Auth), renewed like any other.
struct TokenFileLogin: AgentLoginMethod {
    var name: String { "token" }
    func login(server: String, settings: [String: String]) async throws -> LoginAnswer {
        let token = try readCredentialFile(settings["tokenFile"], setting: "tokenFile")
        let me = try await APIClient(baseURL: server, token: token).call(.GET, "/api/v1/auth/token/self")
        let expires = (me["expiresAt"] as? String).flatMap(parseISO8601)
        let maxExpires = (me["maxExpiresAt"] as? String).flatMap(parseISO8601)
        return LoginAnswer(accessToken: token, expiresIn: Int(expires?.timeIntervalSinceNow ?? 3600),
                           accessTokenMaxTTL: Int(maxExpires?.timeIntervalSinceNow ?? 0), tokenType: "Bearer")
    }
}
