/// Byte-level helpers for ASCII protocol text on hot paths, where Foundation's Unicode-aware
/// trimming and searching cost more than the work around them.
enum ASCIIText {
    static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    /// `bytes` without leading and trailing spaces and tabs.
    static func trimmingBlanks(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var start = bytes.startIndex, end = bytes.endIndex
        while start < end, isBlank(bytes[start]) { start += 1 }
        while end > start, isBlank(bytes[end - 1]) { end -= 1 }
        return bytes[start..<end]
    }

    /// `text` without leading and trailing spaces and tabs.
    static func trimmingBlanks(_ text: String) -> String {
        String(decoding: trimmingBlanks(Array(text.utf8)[...]), as: UTF8.self)
    }
}

extension Duration {
    /// The duration in whole nanoseconds (for APIs that take an integer count).
    public var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
