import Hummingbird

/// The stable error codes of the API. Every failure that reaches a client is one of these; the
/// mapping to an HTTP status lives here and nowhere else.
public enum APIErrorCode: String, Sendable, CaseIterable {
    case badRequest = "BadRequest"
    case unauthorized = "Unauthorized"
    case forbidden = "Forbidden"
    case notFound = "NotFound"
    case conflict = "Conflict"
    case payloadTooLarge = "PayloadTooLarge"
    case validation = "ValidationError"
    case rateLimited = "RateLimited"
    case badGateway = "BadGateway"
    case serviceUnavailable = "ServiceUnavailable"
    case internalError = "InternalServerError"

    /// The HTTP status this code answers with.
    public var status: HTTPResponse.Status {
        switch self {
        case .badRequest: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .validation: .unprocessableContent
        case .rateLimited: .tooManyRequests
        case .badGateway: .badGateway
        case .serviceUnavailable: .serviceUnavailable
        case .internalError: .internalServerError
        }
    }
}

/// An error meant for the client: a stable code and a message that is safe to show.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: APIErrorCode
    public let message: String
    /// Seconds after which a retry may succeed, sent as `Retry-After` (429 and 503).
    public let retryAfter: Int?

    public init(_ code: APIErrorCode, _ message: String, retryAfter: Int? = nil) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { "\(code.rawValue): \(message)" }

    public static func badRequest(_ message: String) -> APIError { .init(.badRequest, message) }
    public static func unauthorized(_ message: String) -> APIError { .init(.unauthorized, message) }
    public static func forbidden(_ message: String) -> APIError { .init(.forbidden, message) }
    public static func notFound(_ message: String) -> APIError { .init(.notFound, message) }
    public static func conflict(_ message: String) -> APIError { .init(.conflict, message) }
    public static func validation(_ message: String) -> APIError { .init(.validation, message) }
    public static func badGateway(_ message: String) -> APIError { .init(.badGateway, message) }
    public static func unavailable(_ message: String) -> APIError { .init(.serviceUnavailable, message) }
    public static func rateLimited(_ message: String, retryAfter: Int) -> APIError { .init(.rateLimited, message, retryAfter: retryAfter) }
}

/// The JSON body of every error response.
public struct ErrorBody: Codable, Sendable {
    public let reqId: String
    public let statusCode: Int
    public let message: String
    public let error: String
}
