import Foundation
import Hummingbird

/// The fields of an `application/x-www-form-urlencoded` post (the last value of a repeated name).
struct FormBody: Sendable {
    let values: [String: String]

    subscript(_ name: String) -> String? { values[name] }

    /// `name`'s value trimmed, nil when absent or blank.
    func text(_ name: String) -> String? {
        guard let v = values[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty else { return nil }
        return v
    }

    init(values: [String: String]) { self.values = values }

    /// Parses `text`; a malformed escape keeps its raw text.
    init(urlEncoded text: String) {
        var values: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            values[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        self.values = values
    }

    /// Reads a form post of at most 256 KiB.
    static func read(_ request: Request) async throws -> FormBody {
        let buffer = try await request.body.collect(upTo: 256 * 1024)
        return FormBody(urlEncoded: String(buffer: buffer))
    }
}
