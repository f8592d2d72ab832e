import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Options every API command shares: where the server is and which token to use.
struct ServerOptions: ParsableArguments {
    @Option(help: "The kms server URL (or KMS_SERVER_URL)") var server: String?
    @Option(help: "Access token (or KMS_TOKEN)") var token: String?
    @Flag(help: "Print JSON instead of a table") var json = false

    var client: APIClient {
        get throws {
            let env = ProcessInfo.processInfo.environment
            guard let token = token ?? env["KMS_TOKEN"], !token.isEmpty else { throw ValidationError("an access token is required: --token or KMS_TOKEN") }
            return APIClient(baseURL: server ?? env["KMS_SERVER_URL"] ?? "http://127.0.0.1:8080", token: token)
        }
    }
}

/// A small JSON client for the CLI; API errors become the server's message.
struct APIClient {
    let baseURL: String
    let token: String

    func call(_ method: HTTPMethod, _ path: String, body: [String: Any]? = nil) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: baseURL.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)
        request.method = method
        if !token.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
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

    static func query(_ items: [String: String?]) -> String {
        let pairs = items.compactMap { k, v in v.map { "\(k)=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" } }.sorted()
        return pairs.isEmpty ? "" : "?" + pairs.joined(separator: "&")
    }
}

/// Output helpers: JSON for scripts, aligned tables for people.
enum Output {
    static func json(_ object: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }

    static func table(_ rows: [[String: Any]], columns: [String]) {
        let cells = rows.map { row in columns.map { "\(row[$0].map { "\($0)" } ?? "")" } }
        let widths = columns.indices.map { i in max(columns[i].count, cells.map { $0[i].count }.max() ?? 0) }
        func line(_ values: [String]) -> String {
            values.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        print(line(columns.map { $0.uppercased() }))
        for row in cells { print(line(row)) }
    }
}
