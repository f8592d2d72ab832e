import Foundation
import Hummingbird
import Logging

/// The one place where errors become responses. Known errors keep their code; storage outages
/// are 503; anything else is a bug, logged and answered 500 without detail.
public struct ErrorMiddleware: RouterMiddleware {
    public typealias Context = KMSRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            var response = try await next(request, context)
            response.headers[.init("X-Request-Id")!] = context.id
            return response
        } catch {
            let apiError = Self.map(error)
            if apiError.code == .internalError {
                context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: type(of: error)))", "detail": "\(error)"])
            } else if apiError.code == .serviceUnavailable {
                context.logger.warning("storage unavailable", metadata: ["error": "\(error)"])
            }
            return Self.response(apiError, requestId: context.id)
        }
    }

    /// Builds the API's error response.
    public static func response(_ error: APIError, requestId: String) -> Response {
        let body = ErrorBody(reqId: requestId, statusCode: Int(error.code.status.code), message: error.message, error: error.code.rawValue)
        let data = (try? JSONEncoder().encode(body)) ?? Data()
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.init("X-Request-Id")!] = requestId
        if let retryAfter = error.retryAfter { headers[.retryAfter] = String(max(1, retryAfter)) }
        return Response(status: error.code.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Maps any error to the API error it answers with.
    public static func map(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as StorageError:
            switch e {
            case .unavailable: return .unavailable("the database is unavailable, try again shortly")
            case .uniqueViolation: return .conflict("the object already exists")
            case .invalidInput: return .badRequest("the request contains a value that cannot be stored (for example a NUL character)")
            case .decoding, .other: return APIError(.internalError, "internal server error")
            }
        case let e as any HTTPResponseError:
            switch e.status.code {
            case 413: return APIError(.payloadTooLarge, "request body is larger than \(KMSRequestContext.bodyLimit) bytes")
            case 404: return .notFound("route not found")
            case 405: return .notFound("route not found")
            case 400..<500: return .badRequest((e as? HTTPError)?.body ?? "bad request")
            default: return APIError(.internalError, "internal server error")
            }
        case is DecodingError: return .validation(describe(error as! DecodingError))
        default: return APIError(.internalError, "internal server error")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "body" : p
        }
        switch error {
        case .keyNotFound(let key, let c): return "\(path(c).isEmpty || path(c) == "body" ? "" : path(c) + ".")\(key.stringValue) is required"
        case .typeMismatch(let type, let c): return "\(path(c)) must be of type \(type)"
        case .valueNotFound(_, let c): return "\(path(c)) must not be null"
        case .dataCorrupted(let c): return "\(path(c)) is invalid: \(c.debugDescription)"
        @unknown default: return "request body does not match the schema"
        }
    }
}
