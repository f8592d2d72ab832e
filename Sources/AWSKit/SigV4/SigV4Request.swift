/// An HTTP request as SigV4 sees it: the raw path, decoded query pairs, ordered headers
/// (duplicates allowed) and the body bytes.
public struct SigV4Request: Sendable, Equatable {
    public var method: String
    /// The path as sent on the wire (not decoded), e.g. `/` or `/example%20space/`.
    public var path: String
    /// Decoded query parameters in order, duplicates allowed.
    public var query: [(String, String)]
    /// Header fields in order, names as sent; duplicates allowed.
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(method: String, path: String = "/", query: [(String, String)] = [], headers: [(String, String)] = [], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    public static func == (a: SigV4Request, b: SigV4Request) -> Bool {
        a.method == b.method && a.path == b.path && a.body == b.body
            && a.query.map { [$0.0, $0.1] } == b.query.map { [$0.0, $0.1] }
            && a.headers.map { [$0.0, $0.1] } == b.headers.map { [$0.0, $0.1] }
    }

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.0.lowercased() == lower }?.1
    }

    /// Sets a header, replacing every field of that name.
    public mutating func setHeader(_ name: String, _ value: String) {
        let lower = name.lowercased()
        headers.removeAll { $0.0.lowercased() == lower }
        headers.append((name, value))
    }
}
