import Foundation

/// A statement whose interpolated values are bound, never spliced into its text:
/// `db.query(SQL("SELECT * FROM t WHERE id = \(id) AND n > \(n)"))` sends
/// `... id = $1 AND n > $2` with the two values as binds. Only ``unsafeRaw(_:)`` splices text,
/// for names that come from code (a provider's table), never from a request.
public struct SQL: Sendable, ExpressibleByStringInterpolation {
    public private(set) var text = ""
    public private(set) var binds: [DBValue] = []

    public init(stringLiteral value: String) { text = value }

    public init(stringInterpolation: Interpolation) {
        text = stringInterpolation.text
        binds = stringInterpolation.binds
    }

    public struct Interpolation: StringInterpolationProtocol {
        var text = ""
        var binds: [DBValue] = []

        public init(literalCapacity: Int, interpolationCount: Int) { text.reserveCapacity(literalCapacity + interpolationCount * 3) }

        public mutating func appendLiteral(_ literal: String) { text += literal }

        /// A value: bound as the next placeholder.
        public mutating func appendInterpolation(_ value: DBValue) {
            binds.append(value)
            text += "$\(binds.count)"
        }
        public mutating func appendInterpolation(_ value: String) { appendInterpolation(DBValue.text(value)) }
        public mutating func appendInterpolation(_ value: String?) { appendInterpolation(value.map(DBValue.text) ?? .null) }
        public mutating func appendInterpolation(_ value: Int) { appendInterpolation(DBValue.int(Int64(value))) }
        public mutating func appendInterpolation(_ value: Int64) { appendInterpolation(DBValue.int(value)) }
        public mutating func appendInterpolation(_ value: Bool) { appendInterpolation(DBValue(value)) }
        public mutating func appendInterpolation(_ value: Date?) { appendInterpolation(DBValue(value)) }

        /// Text spliced as is: only for identifiers that come from code.
        public mutating func appendInterpolation(unsafeRaw text: String) { self.text += text }
    }
}

extension SQLExecutor {
    /// Runs a statement whose values were bound by interpolation.
    @discardableResult
    public func query(_ sql: SQL) async throws -> [DBRow] { try await query(sql.text, sql.binds) }

    /// Runs a statement whose values were bound by interpolation and returns its first row.
    public func first(_ sql: SQL) async throws -> DBRow? { try await query(sql.text, sql.binds).first }
}
