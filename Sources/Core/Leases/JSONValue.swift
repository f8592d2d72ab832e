import Foundation

/// A JSON value that is `Sendable` and `Codable`, for provider inputs whose shape each provider
/// defines.
public enum JSONValue: Sendable, Codable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    public subscript(_ key: String) -> JSONValue? { if case .object(let o) = self { o[key] } else { nil } }
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var object: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    public var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }

    /// The JSON text of this value, keys sorted.
    public var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    public static func parse(_ text: String) -> JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }
}

/// Durations as the API accepts them: seconds as a number, or `"90s"`, `"15m"`, `"1h"`, `"2d"`.
public enum DurationParser {
    public static func seconds(_ value: JSONValue?, field: String) throws -> Int? {
        guard let value else { return nil }
        switch value {
        case .null: return nil
        case .number(let n):
            guard n >= 0, n == n.rounded(), n < 1e10 else { throw APIError.badRequest("\(field) must be a whole number of seconds") }
            return Int(n)
        case .string(let s): return try seconds(s, field: field)
        default: throw APIError.badRequest("\(field) must be seconds or a duration such as \"1h\"")
        }
    }

    public static func seconds(_ text: String, field: String) throws -> Int {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let n = Int(t), n >= 0 { return n }
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let unit = t.last, let factor = units[unit], let n = Int(t.dropLast()), n >= 0, n < 100_000_000 else {
            throw APIError.badRequest("\(field) must be seconds or a duration such as \"15m\", \"1h\", \"2d\"")
        }
        return n * factor
    }
}
