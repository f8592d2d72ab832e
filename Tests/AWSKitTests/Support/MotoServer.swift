import AWSKit
import AsyncHTTPClient
import Foundation
import NIOCore

/// A moto server of the test's own, on a free loopback port, stopped when the test ends.
final class MotoServer: Sendable {
    let url: String
    let port: Int
    private let process: Process

    private init(port: Int, process: Process) {
        self.port = port
        self.url = "http://127.0.0.1:\(port)"
        self.process = process
    }

    static func freePort() throws -> Int {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        // Reading to EOF waits for the child; Foundation's waitUntilExit spins off the main thread.
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let port = Int(text) else { throw TestError("no free port") }
        return port
    }

    /// Starts moto (from PyPI `moto[server]`, which the test command installs) and waits for it.
    static func start(recording: Bool = false) async throws -> MotoServer {
        let port = try freePort()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)]
        var env = ProcessInfo.processInfo.environment
        env["MOTO_ENABLE_RECORDING"] = recording ? "true" : "false"
        // Each server records to its own file (the default is ./moto_recording, shared by all).
        env["MOTO_RECORDER_FILEPATH"] = FileManager.default.temporaryDirectory.appendingPathComponent("moto-recording-\(port)-\(UUID().uuidString)").path
        for key in env.keys where key.hasPrefix("AWS_") { env[key] = nil }
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let server = MotoServer(port: port, process: p)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if !p.isRunning { throw TestError("moto exited; is moto[server] installed? (make test installs it)") }
            if (try? await server.get("/moto-api/data.json")) != nil { return server }
            try await Task.sleep(for: .milliseconds(100))
        }
        await server.stop()
        throw TestError("moto did not start on port \(port)")
    }

    /// Stops moto: SIGTERM, then SIGKILL if it is still there after five seconds.
    func stop() async {
        guard process.isRunning else { return }
        process.terminate()
        for _ in 0..<100 where process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    func get(_ path: String) async throws -> String {
        var request = HTTPClientRequest(url: url + path)
        request.method = .GET
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        return String(buffer: try await response.body.collect(upTo: 16 << 20))
    }

    func post(_ path: String, body: String) async throws {
        var request = HTTPClientRequest(url: url + path)
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        guard response.status == .ok else { throw TestError("moto \(path) answered \(response.status)") }
        _ = try await response.body.collect(upTo: 1 << 20)
    }

    /// The requests moto's recorder saw (`MOTO_ENABLE_RECORDING`): headers and decoded body.
    func recorded() async throws -> [(headers: [String: String], body: String)] {
        let text = try await get("/moto-api/recorder/download-recording")
        return text.split(whereSeparator: \.isNewline).compactMap { line in
            guard let entry = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            var body = entry["body"] as? String ?? ""
            if entry["body_encoded"] as? Bool == true, let data = Data(base64Encoded: body) { body = String(decoding: data, as: UTF8.self) }
            return (entry["headers"] as? [String: String] ?? [:], body)
        }
    }

    /// Turns on moto's signature and permission checks (after seeding).
    func enforceAuth() async throws { try await post("/moto-api/reset-auth", body: "0") }

    var endpoints: AWSEndpointResolver { AWSEndpointResolver(environment: ["AWS_ENDPOINT_URL": url]) }

    /// Runs `body` with a fresh moto, always stopping it.
    static func with<T: Sendable>(recording: Bool = false, _ body: (MotoServer) async throws -> T) async throws -> T {
        let moto = try await start(recording: recording)
        do {
            let result = try await body(moto)
            await moto.stop()
            return result
        } catch {
            await moto.stop()
            throw error
        }
    }
}

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Seeds moto (with checks off) with an admin user that may do everything, and returns its keys.
enum MotoSeed {
    static let anyKey = AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "seed-secret")

    static func admin(_ moto: MotoServer, query: AWSQueryClient, name: String = "admin") async throws -> AWSCredentials {
        let iam = IAMClient(query: query, credentials: StaticCredentialProvider(anyKey))
        _ = try await iam.createUser(name: name)
        try await iam.putUserPolicy(user: name, name: "all", document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        return try await iam.createAccessKey(user: name)
    }

    /// Creates a role trusting `principalArn` (optionally requiring an external id).
    static func role(_ query: AWSQueryClient, name: String, trusting principalArn: String, externalId: String? = nil) async throws -> String {
        var statement = #"{"Effect":"Allow","Principal":{"AWS":"\#(principalArn)"},"Action":"sts:AssumeRole""#
        if let externalId { statement += #","Condition":{"StringEquals":{"sts:ExternalId":"\#(externalId)"}}"# }
        statement += "}"
        let trust = #"{"Version":"2012-10-17","Statement":[\#(statement)]}"#
        let r = try await query.call(.iam, "CreateRole", [("RoleName", name), ("AssumeRolePolicyDocument", trust)], region: "us-east-1", credentials: anyKey)
        guard let arn = r.value("Role", "Arn") else { throw TestError("CreateRole returned no ARN") }
        return arn
    }
}
