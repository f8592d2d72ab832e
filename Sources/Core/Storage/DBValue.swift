import Foundation

/// A value bound to or read from SQL. The schema uses only these types so that the same
/// statements run on SQLite and Postgres (timestamps are Unix milliseconds, flags are 0/1).
public enum DBValue: Sendable, Hashable {
    case null
    case int(Int64)
    case text(String)

    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    public init(_ value: Int?) { self = value.map { .int(Int64($0)) } ?? .null }
    public init(_ value: Int64?) { self = value.map { .int($0) } ?? .null }
    public init(_ value: Bool) { self = .int(value ? 1 : 0) }
    public init(_ value: Date?) { self = value.map { .int(Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? .null }
}

/// One result row, by column name.
public struct DBRow: Sendable {
    public let values: [String: DBValue]

    public init(_ values: [String: DBValue]) { self.values = values }

    private func value(_ column: String) throws -> DBValue {
        guard let v = values[column] else { throw StorageError.decoding("missing column \(column)") }
        return v
    }

    public func string(_ column: String) throws -> String {
        guard case .text(let s) = try value(column) else { throw StorageError.decoding("column \(column) is not text") }
        return s
    }

    public func optionalString(_ column: String) throws -> String? {
        switch try value(column) {
        case .null: nil
        case .text(let s): s
        case .int: throw StorageError.decoding("column \(column) is not text")
        }
    }

    public func int(_ column: String) throws -> Int64 {
        guard case .int(let i) = try value(column) else { throw StorageError.decoding("column \(column) is not an integer") }
        return i
    }

    public func optionalInt(_ column: String) throws -> Int64? {
        switch try value(column) {
        case .null: nil
        case .int(let i): i
        case .text: throw StorageError.decoding("column \(column) is not an integer")
        }
    }

    public func bool(_ column: String) throws -> Bool { try int(column) != 0 }

    public func date(_ column: String) throws -> Date { Date(milliseconds: try int(column)) }

    public func optionalDate(_ column: String) throws -> Date? { try optionalInt(column).map(Date.init(milliseconds:)) }
}

extension Date {
    /// A date from Unix milliseconds, the storage representation.
    public init(milliseconds: Int64) { self.init(timeIntervalSince1970: Double(milliseconds) / 1000) }
    /// Unix milliseconds, the storage representation.
    public var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
}
