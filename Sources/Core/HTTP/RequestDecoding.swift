import Foundation
import Hummingbird

extension Request {
    /// Decodes a JSON body: unreadable JSON is 400, JSON of the wrong shape is 422 (via the
    /// error middleware), a body over the limit is 413.
    public func json<T: Decodable>(_ type: T.Type, context: KMSRequestContext) async throws -> T {
        try JSONDecoder().decode(T.self, from: try await jsonData(context: context))
    }

    /// The body, checked to be JSON, for decoding into several types (400 otherwise).
    public func jsonData(context: KMSRequestContext) async throws -> Data {
        let buffer = try await body.collect(upTo: context.maxUploadSize)
        let data = Data(buffer: buffer)
        guard (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil else {
            throw APIError.badRequest(data.isEmpty ? "request body is required" : "request body is not valid JSON")
        }
        return data
    }

    /// A required query parameter, with a 400 naming it when absent.
    public func query(_ name: String) throws -> String {
        guard let value = uri.queryParameters[name[...]].map(String.init), !value.isEmpty else {
            throw APIError.badRequest("query parameter \(name) is required")
        }
        return value
    }

    /// An optional query parameter.
    public func optionalQuery(_ name: String) -> String? {
        uri.queryParameters[name[...]].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
    }
}

extension KMSRequestContext {
    /// A path parameter the route declared.
    public func parameter(_ name: String) throws -> String {
        guard let value = parameters.get(name) else { throw APIError.badRequest("missing path parameter \(name)") }
        return value
    }
}

/// A JSON response with a chosen status.
public struct JSONResponse<Body: Encodable & Sendable>: ResponseGenerator {
    public let status: HTTPResponse.Status
    public let body: Body

    public init(_ body: Body, status: HTTPResponse.Status = .ok) {
        self.body = body
        self.status = status
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(ISO8601Format.string(date))
        }
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = try encoder.encode(body)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// ISO-8601 UTC timestamps with milliseconds, as the API writes them.
public enum ISO8601Format {
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, formatted by hand: Foundation's formatters dominate the cost
    /// of small responses.
    public static func string(_ date: Date) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        write(date, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The same text, appended to UTF-8 `out`.
    public static func write(_ date: Date, into out: inout [UInt8]) {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(ms >= 0 ? ms / 1000 : (ms - 999) / 1000)
        let millis = Int(((ms % 1000) + 1000) % 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = max(0, value)
            while rest / divisor >= 10 { divisor *= 10 }  // wider than `width` when it must be
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4); out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2); out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2); out.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2); out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2); out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2); out.append(UInt8(ascii: "."))
        digits(millis, 3); out.append(UInt8(ascii: "Z"))
    }

    public static func parse(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
    }
}
