import Core
import Foundation

/// What a person typed into a form, and what went wrong with it, to show the form again.
struct FormState: Sendable {
    /// Which form on the page (a page can have several).
    let formId: String
    let values: [String: String]
    /// Field name -> message.
    var errors: [String: String] = [:]
    /// A message for the whole form.
    var message: String?

    /// This state with the API's `message` next to the field of `fields` it names, or for the whole form.
    func failed(_ fields: [ConsoleField], _ message: String) -> FormState {
        var s = self
        if let field = FormCodec.field(for: message, in: fields) { s.errors[field] = message } else { s.message = message }
        return s
    }
}

/// Turns plugin-described fields into form inputs and typed-in values into the API's JSON.
enum FormCodec {
    /// Errors of fields that are not even well-formed (a number that is not one).
    struct Invalid: Error { let errors: [String: String] }

    /// The JSON of `fields` from `form`. Empty optional fields are left out, so an update keeps
    /// their stored value; dotted names make nested objects.
    static func json(_ fields: [ConsoleField], _ form: FormBody) throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        var errors: [String: String] = [:]
        for field in fields {
            let raw = form[field.name] ?? ""
            let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            let value: JSONValue?
            switch field.kind {
            case .checkbox:
                value = .bool(form[field.name] != nil)
            case _ where text.isEmpty:
                if field.required { errors[field.name] = "\(field.label) is required" }
                value = nil
            case .text, .textarea, .select:
                value = .string(field.kind == .textarea ? raw : text)
            case .secret:
                value = .string(raw)
            case .number:
                guard let n = Int(text) else { errors[field.name] = "\(field.label) must be a whole number"; continue }
                value = .number(Double(n))
            case .list:
                value = .array(items(text).map(JSONValue.string))
            case .ipList:
                value = .array(items(text).map { .object(["ipAddress": .string($0)]) })
            case .tags, .keyValues:
                var pairs: [(String, String)] = []
                for line in text.split(whereSeparator: \.isNewline) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                    let kv = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard kv.count == 2, !kv[0].isEmpty else { errors[field.name] = "\(field.label): write one key=value per line"; break }
                    pairs.append((kv[0], kv[1]))
                }
                value = field.kind == .tags ? .array(pairs.map { .object(["key": .string($0.0), "value": .string($0.1)]) })
                    : .object(Dictionary(pairs, uniquingKeysWith: { _, b in b }).mapValues(JSONValue.string))
            }
            if let value { set(&out, path: field.name.split(separator: ".").map(String.init), value) }
        }
        if !errors.isEmpty { throw Invalid(errors: errors) }
        return out
    }

    static func items(_ text: String) -> [String] {
        text.split(whereSeparator: { $0.isNewline || $0 == "," }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func set(_ object: inout [String: JSONValue], path: [String], _ value: JSONValue) {
        guard let head = path.first else { return }
        if path.count == 1 { object[head] = value; return }
        var child = object[head]?.object ?? [:]
        set(&child, path: Array(path.dropFirst()), value)
        object[head] = .object(child)
    }

    /// The field an API error message is about: the one whose name (its last part) or label the
    /// message names, the longest first; nil for a message about the whole form.
    static func field(for message: String, in fields: [ConsoleField]) -> String? {
        let lower = message.lowercased()
        let candidates = fields.flatMap { f in [(f.name, String(f.name.split(separator: ".").last ?? "")), (f.name, f.label)] }
        return candidates.filter { !$0.1.isEmpty && lower.contains($0.1.lowercased()) }.max { $0.1.count < $1.1.count }?.0
    }

    /// The inputs of `fields` as the `fields` template renders them. `values` are the stored or
    /// typed-in values (dotted names), `state` the values and errors of a failed post.
    static func views(_ fields: [ConsoleField], formId: String, values: [String: String] = [:], state: FormState? = nil) -> [[String: Any]] {
        let mine = state?.formId == formId ? state : nil
        return fields.map { field in
            var value = mine?.values[field.name] ?? values[field.name] ?? field.defaultValue ?? ""
            if field.kind == .secret { value = "" }  // never put back into a page
            // Every key the template reads is set (false when absent), so no lookup falls through
            // to a key of the page around the form.
            var view: [String: Any] = [
                "id": formId + "-" + field.name.replacingOccurrences(of: ".", with: "-"),
                "name": field.name, "label": field.label, "value": value, "required": field.required,
                "help": field.help ?? false, "placeholder": field.placeholder ?? false, "error": mine?.errors[field.name] ?? false,
                "input": false, "textarea": false, "select": false, "checkbox": false, "checked": false, "type": "text", "options": [Any](),
            ]
            switch field.kind {
            case .text: view["input"] = true; view["type"] = "text"
            case .secret: view["input"] = true; view["type"] = "password"
            case .number: view["input"] = true; view["type"] = "number"
            case .checkbox: view["checkbox"] = true; view["checked"] = value == "true" || value == "on"
            case .select(let options):
                view["select"] = true
                view["options"] = options.map { ["value": $0, "selected": $0 == value] as [String: Any] }
            case .textarea, .list, .tags, .ipList, .keyValues: view["textarea"] = true
            }
            return view
        }
    }

    /// A stored JSON object flattened to the text each field shows (dotted names).
    static func flatten(_ object: [String: JSONValue], fields: [ConsoleField]) -> [String: String] {
        var out: [String: String] = [:]
        for field in fields {
            var node: JSONValue? = .object(object)
            for part in field.name.split(separator: ".") { node = node?[String(part)] }
            guard let node else { continue }
            switch (field.kind, node) {
            case (_, .string(let s)): out[field.name] = s
            case (_, .bool(let b)): out[field.name] = b ? "true" : "false"
            case (_, .number(let n)): out[field.name] = n == n.rounded() ? String(Int(n)) : String(n)
            case (.ipList, .array(let a)): out[field.name] = a.compactMap { $0["ipAddress"]?.string }.joined(separator: "\n")
            case (.tags, .array(let a)): out[field.name] = a.compactMap { t in t["key"]?.string.map { "\($0)=\(t["value"]?.string ?? "")" } }.joined(separator: "\n")
            case (_, .array(let a)): out[field.name] = a.compactMap(\.string).joined(separator: "\n")
            case (.keyValues, .object(let o)): out[field.name] = o.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.string ?? "")" }.joined(separator: "\n")
            default: break
            }
        }
        return out
    }
}
