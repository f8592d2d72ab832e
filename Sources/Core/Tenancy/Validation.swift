import Foundation

/// Input checks shared by the routes, each failing with a 400 that names the field.
public enum Validate {
    /// A non-empty name of at most `max` characters, trimmed.
    public static func name(_ value: String?, field: String, max: Int = 128) throws -> String {
        let trimmed = (value ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw APIError.badRequest("\(field) is required") }
        guard trimmed.count <= max else { throw APIError.badRequest("\(field) must be at most \(max) characters") }
        guard !trimmed.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) else {
            throw APIError.badRequest("\(field) must not contain control characters")
        }
        return trimmed
    }

    /// A slug: 1 to 64 lower-case letters, digits and dashes, not starting or ending with a dash.
    public static func slug(_ value: String, field: String = "slug") throws -> String {
        let ok = (1...64).contains(value.count) && value.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }
            && !value.hasPrefix("-") && !value.hasSuffix("-")
        guard ok else { throw APIError.badRequest("\(field) must be 1-64 lower-case letters, digits or dashes") }
        return value
    }

    /// Derives a slug from a display name.
    public static func slugify(_ name: String) -> String {
        var out = ""
        for ch in name.lowercased() {
            if ch.isASCII, ch.isLetter || ch.isNumber { out.append(ch) } else if !out.hasSuffix("-") { out.append("-") }
        }
        let trimmed = out.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        return String((trimmed.isEmpty ? "org" : trimmed).prefix(48))
    }

    /// A plausible e-mail address, lower-cased.
    public static func email(_ value: String?) throws -> String {
        let email = (value ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
              !email.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw APIError.badRequest("email must be a valid e-mail address")
        }
        return email
    }

    /// A password of 12 to 1024 characters.
    public static func password(_ value: String?) throws -> String {
        guard let value, value.count >= 12 else { throw APIError.badRequest("password must be at least 12 characters") }
        guard value.utf8.count <= 1024 else { throw APIError.badRequest("password must be at most 1024 bytes") }
        return value
    }
}
