import Foundation
import Hummingbird
import NIOCore

/// A JSON object written by hand, for the hottest answers: `JSONEncoder` was a tenth of an
/// authenticated request's CPU. Keys are the caller's literals; values are escaped here.
public struct JSONText: ResponseGenerator, Sendable {
    /// UTF-8 of the object so far, without its closing brace. Built as bytes: String's
    /// character counting and appends were most of this type's cost.
    private var bytes: [UInt8] = [UInt8(ascii: "{")]

    public init() { bytes.reserveCapacity(512) }

    private mutating func key(_ name: StaticString) {
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// A string member; nil leaves the member out (as `Encodable`'s synthesized code does).
    public mutating func add(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        Self.quote(value, into: &bytes)
    }

    public mutating func add(_ name: StaticString, _ value: Int) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    /// A time as the API writes every time (ISO-8601, UTC, milliseconds); nil leaves it out.
    public mutating func add(_ name: StaticString, _ value: Date?) {
        guard let value else { return }
        key(name)
        bytes.append(UInt8(ascii: "\""))
        ISO8601Format.write(value, into: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func add(_ name: StaticString, _ values: [String]) {
        key(name)
        Self.writeArray(values, into: &bytes)
    }

    /// `value` as a JSON string literal: quotes, backslashes and control characters escaped.
    /// Bytes of multi-byte UTF-8 sequences are all 0x80 or above, so they pass through as they are.
    static func quote(_ value: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(byte)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(byte)
            case UInt8(ascii: "\n"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case ..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `values` as a JSON array of strings (`JSONEncoder` was 2 % of a login's CPU).
    static func array(_ values: [String]) -> String {
        var out: [UInt8] = []
        writeArray(values, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func writeArray(_ values: [String], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (n, value) in values.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            quote(value, into: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// The finished object's text.
    public var json: String { String(decoding: bytes + [UInt8(ascii: "}")], as: UTF8.self) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        var buffer = ByteBuffer()
        buffer.reserveCapacity(bytes.count + 1)
        buffer.writeBytes(bytes)
        buffer.writeInteger(UInt8(ascii: "}"))
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: buffer))
    }
}
