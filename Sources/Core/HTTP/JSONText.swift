import Foundation
import Hummingbird
import NIOCore

/// A JSON object written by hand, for the hottest answers: `JSONEncoder` was a tenth of an
/// authenticated request's CPU. Keys are the caller's literals; values are escaped here.
public struct JSONText: ResponseGenerator, Sendable {
    private var text = "{"

    public init() {}

    private mutating func key(_ name: String) {
        if text.count > 1 { text += "," }
        text += "\"\(name)\":"
    }

    /// A string member; nil leaves the member out (as `Encodable`'s synthesized code does).
    public mutating func add(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        Self.quote(value, into: &text)
    }

    public mutating func add(_ name: String, _ value: Int) {
        key(name)
        text += String(value)
    }

    /// A time as the API writes every time (ISO-8601, UTC, milliseconds); nil leaves it out.
    public mutating func add(_ name: String, _ value: Date?) { add(name, value.map(ISO8601Format.string)) }

    public mutating func add(_ name: String, _ values: [String]) {
        key(name)
        text += "["
        for (n, value) in values.enumerated() {
            if n > 0 { text += "," }
            Self.quote(value, into: &text)
        }
        text += "]"
    }

    /// `value` as a JSON string literal: quotes, backslashes and control characters escaped.
    static func quote(_ value: String, into out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// The finished object's text.
    public var json: String { text + "}" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }
}
