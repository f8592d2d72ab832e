import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The HTTP API called inside the process, for plugins that act for a person through it (the web
/// console). A call goes through the whole router, middleware included, with the caller's own
/// bearer token, so authentication, RBAC, rate limits, audit and errors are the API's own and
/// never written twice. Host binds the router's responder once it is built.
public final class InProcessAPI: Sendable {
    private let responder = Mutex<(any HTTPResponder<KMSRequestContext>)?>(nil)

    public init() {}

    /// Binds the built router; calls before this answer 503.
    public func bind(_ responder: some HTTPResponder<KMSRequestContext>) { self.responder.withLock { $0 = responder } }

    /// The answer to an in-process call: its status and JSON body.
    public struct Answer: Sendable {
        public let status: HTTPResponse.Status
        public let body: JSONValue
        public var ok: Bool { (200..<300).contains(status.code) }
        /// The API error's message (`message` of the error shape).
        public var message: String { body["message"]?.string ?? "the request failed (\(status.code))" }
    }

    /// Calls `path` (with its query) as `bearer`. `context` is the request being served: its
    /// client address and request id carry over, its caller does not. `forwarded` are headers
    /// of that request that the API reads too (`User-Agent`, `X-Forwarded-For`).
    public func call(_ method: HTTPRequest.Method, _ path: String, bearer: String?, json: JSONValue? = nil,
                     context: KMSRequestContext, forwarded: HTTPFields = [:]) async throws -> Answer {
        guard let responder = responder.withLock({ $0 }) else { throw APIError.unavailable("the server is starting") }
        var headers = forwarded
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        var buffer = ByteBuffer()
        if let json {
            buffer = ByteBuffer(bytes: try JSONEncoder().encode(json))
            headers[.contentType] = "application/json"
            headers[.contentLength] = String(buffer.readableBytes)
        }
        let request = Request(head: HTTPRequest(method: method, scheme: "http", authority: "in-process", path: path, headerFields: headers),
                              body: RequestBody(buffer: buffer))
        var inner = context
        inner.principal = nil
        let response = try await responder.respond(to: request, context: inner)
        let collected = Collected()
        try await response.body.write(BodyCollector(into: collected))
        let bytes = collected.bytes.withLock { $0 }
        let body = bytes.readableBytes == 0 ? JSONValue.null : ((try? JSONDecoder().decode(JSONValue.self, from: Data(buffer: bytes))) ?? .null)
        return Answer(status: response.status, body: body)
    }
}

private final class Collected: Sendable {
    let bytes = Mutex(ByteBuffer())
}

/// Collects a response body written by the router.
private struct BodyCollector: ResponseBodyWriter {
    let into: Collected
    func write(_ buffer: ByteBuffer) async throws { _ = into.bytes.withLock { $0.writeImmutableBuffer(buffer) } }
    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
