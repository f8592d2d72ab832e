import ArgumentParser
import AsyncHTTPClient
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Options every API command shares: where the server is and which token to use.
public struct ServerOptions: ParsableArguments {
    @Option(help: "The kms server URL (or KMS_SERVER_URL)") public var server: String?
    @Option(help: "Access token (or KMS_TOKEN)") public var token: String?
    @Flag(help: "Print JSON instead of a table") public var json = false

    public init() {}

    /// A client for the server and token these options name.
    public var client: APIClient {
        get throws {
            let env = ProcessInfo.processInfo.environment
            guard let token = token ?? env["KMS_TOKEN"], !token.isEmpty else { throw ValidationError("an access token is required: --token or KMS_TOKEN") }
            return APIClient(baseURL: server ?? env["KMS_SERVER_URL"] ?? "http://127.0.0.1:8080", token: token)
        }
    }
}

/// A small JSON client for the CLI; API errors become the server's message.
public struct APIClient: Sendable {
    public let baseURL: String
    public let token: String

    public init(baseURL: String, token: String) {
        self.baseURL = baseURL
        self.token = token
    }

    /// The base URL for anonymous calls: `--server`, else `KMS_SERVER_URL`, else loopback.
    public static func serverURL(_ option: String?) -> String {
        option ?? ProcessInfo.processInfo.environment["KMS_SERVER_URL"] ?? "http://127.0.0.1:8080"
    }

    /// Calls the API; a non-2xx answer throws its message.
    public func call(_ method: HTTPMethod, _ path: String, body: [String: Any]? = nil) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: baseURL.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)
        request.method = method
        if !token.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let response: HTTPClientResponse
        do {
            response = try await Self.httpClient.execute(request, timeout: .seconds(60))
        } catch {
            throw ValidationError("cannot reach \(baseURL): \(error)")
        }
        let data = Data(buffer: try await response.body.collect(upTo: 8 << 20))
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        guard (200..<300).contains(Int(response.status.code)) else {
            throw ValidationError("\(response.status.code) \(object["error"] as? String ?? ""): \(object["message"] as? String ?? "request failed")")
        }
        return object
    }

    /// The CLI's HTTP client: it never follows a redirect, which would re-send a body (a client
    /// secret, a password) to wherever the redirect points.
    static let httpClient: HTTPClient = {
        var config = HTTPClient.Configuration()
        config.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }()

    /// A query string of the non-nil items.
    public static func query(_ items: [String: String?]) -> String {
        let pairs = items.compactMap { k, v in v.map { "\(k)=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" } }.sorted()
        return pairs.isEmpty ? "" : "?" + pairs.joined(separator: "&")
    }
}

/// Output helpers: JSON for scripts, aligned tables for people.
public enum Output {
    public static func json(_ object: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }

    public static func table(_ rows: [[String: Any]], columns: [String]) {
        let cells = rows.map { row in columns.map { "\(row[$0].map { "\($0)" } ?? "")" } }
        let widths = columns.indices.map { i in max(columns[i].count, cells.map { $0[i].count }.max() ?? 0) }
        func line(_ values: [String]) -> String {
            values.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        print(line(columns.map { $0.uppercased() }))
        for row in cells { print(line(row)) }
    }
}

/// The caller's organization, from the token itself.
public func callerOrgId(_ client: APIClient) async throws -> String {
    guard let org = try await client.call(.GET, "/api/v1/auth/token/self")["orgId"] as? String else { throw ValidationError("cannot tell the token's organization") }
    return org
}

/// Commands a plugin adds to the `kms` CLI; Host assembles them from its plugin list, so a
/// login method's CLI lives with the method.
public protocol PluginCommands {
    /// Subcommands of `kms login` (e.g. `aws`).
    var loginCommands: [any ParsableCommand.Type] { get }
    /// Top-level commands (e.g. `pam`).
    var commands: [any ParsableCommand.Type] { get }
    /// Login methods `kms agent` may use (its config's `auth.method`).
    var agentLogins: [any AgentLoginMethod] { get }
}

extension PluginCommands {
    public var loginCommands: [any ParsableCommand.Type] { [] }
    public var commands: [any ParsableCommand.Type] { [] }
    public var agentLogins: [any AgentLoginMethod] { [] }
}

/// A login method of an auth plugin, as `kms agent` uses it: the same client as the plugin's
/// `kms login` command, fed from the agent config's `auth` settings.
public protocol AgentLoginMethod: Sendable {
    /// The `auth.method` value, e.g. `aws`.
    var name: String { get }
    /// Logs in at `server` with the config's `auth` settings (files are re-read at every call).
    func login(server: String, settings: [String: String]) async throws -> LoginAnswer
}

/// Reads a credential file: trimmed, never empty.
public func readCredentialFile(_ path: String?, setting: String) throws -> String {
    guard let path, !path.isEmpty else { throw ValidationError("auth.\(setting) is required") }
    let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    guard !text.isEmpty else { throw ValidationError("\(path) (auth.\(setting)) is empty") }
    return text
}

extension LoginAnswer {
    /// The answer of a machine-identity login route.
    public init(answer: [String: Any]) throws {
        guard let token = answer["accessToken"] as? String, !token.isEmpty else { throw ValidationError("the server's answer holds no access token") }
        self.init(accessToken: token, expiresIn: answer["expiresIn"] as? Int ?? 0, accessTokenMaxTTL: answer["accessTokenMaxTTL"] as? Int ?? 0,
                  tokenType: answer["tokenType"] as? String ?? "Bearer")
    }
}

/// Writes a token to a new file readable by its owner only (created 0600 in one step, never
/// through a symbolic link), replacing an older one.
public func writePrivateToken(_ token: String, to path: String) throws {
    _ = unlink(path)
    let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0o600)
    guard fd >= 0 else { throw ValidationError("cannot write \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    let bytes = Array(token.utf8)
    guard write(fd, bytes, bytes.count) == bytes.count else { throw ValidationError("cannot write \(path)") }
}

/// The options every `kms login ...` shares: where the server is and where the token goes.
public struct LoginOptions: ParsableArguments {
    @Option(help: "The kms server URL (or KMS_SERVER_URL)") public var server: String?
    @Flag(help: "Print the whole JSON answer") public var json = false
    @Option(help: "Write the token to this file (mode 0600) instead of printing it") public var output: String?

    public init() {}

    /// The server's base URL.
    public var serverURL: String { APIClient.serverURL(server) }

    /// Emits a login's answer as these options ask.
    public func emit(token: String, expiresIn: Int?, answer: some Encodable) throws {
        try CLISupport.emitLogin(token: token, expiresIn: expiresIn, answer: answer, output: output, json: json)
    }

    /// Emits the answer of a machine-identity login route (`{accessToken, expiresIn, ...}`).
    public func emitLogin(_ answer: [String: Any]) throws {
        let result = try LoginAnswer(answer: answer)
        try emit(token: result.accessToken, expiresIn: result.expiresIn, answer: result)
    }
}

/// What every `kms login ...` does with the answer: the token to a private file (`--output`),
/// the whole JSON answer (`--json`), or the bare token on standard output.
public func emitLogin(token: String, expiresIn: Int?, answer: some Encodable, output: String?, json: Bool) throws {
    if let output {
        try writePrivateToken(token, to: output)
        FileHandle.standardError.write(Data("token written to \(output)\(expiresIn.map { " (expires in \($0) s)" } ?? "")\n".utf8))
    } else if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(answer), as: UTF8.self))
    } else {
        print(token)
    }
}

/// The answer of every login route.
public struct LoginAnswer: Codable, Sendable {
    public let accessToken: String
    public let expiresIn: Int
    public let accessTokenMaxTTL: Int
    public let tokenType: String

    public init(accessToken: String, expiresIn: Int, accessTokenMaxTTL: Int, tokenType: String) {
        self.accessToken = accessToken
        self.expiresIn = expiresIn
        self.accessTokenMaxTTL = accessTokenMaxTTL
        self.tokenType = tokenType
    }
}
