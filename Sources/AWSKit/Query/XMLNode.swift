import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A parsed XML element: name, attributes, children and text. Built strictly: any parser error,
/// a DTD, or content outside the single root element rejects the whole document.
public struct XMLNode: Sendable, Equatable {
    public let name: String
    public var children: [XMLNode]
    public var text: String

    /// The first child with `name`.
    public func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }

    /// All children with `name`.
    public func all(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }

    /// Follows a path of child names.
    public func path(_ names: String...) -> XMLNode? {
        var node: XMLNode? = self
        for n in names { node = node?.child(n) }
        return node
    }

    /// The trimmed text of the child at a path.
    public func value(_ names: String...) -> String? {
        var node: XMLNode? = self
        for n in names { node = node?.child(n) }
        return node.map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// Parses one XML document.
    public static func parse(_ data: Data) throws -> XMLNode {
        let text = String(decoding: data, as: UTF8.self)
        // Reject anything before the declaration or root, and any DTD (no entity tricks).
        let trimmedStart = text.drop { $0 == "\u{FEFF}" }
        guard trimmedStart.first == "<" else { throw AWSError.invalidResponse("XML document has content before the root element") }
        guard !text.contains("<!DOCTYPE"), !text.contains("<!ENTITY") else { throw AWSError.invalidResponse("XML document type declarations are not accepted") }
        let builder = Builder()
        let parser = XMLParser(data: data)
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        guard parser.parse(), builder.error == nil, let root = builder.root else {
            throw AWSError.invalidResponse("malformed XML: \(builder.error ?? parser.parserError.map { "\($0)" } ?? "no root element")")
        }
        return root
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var stack: [XMLNode] = []
        var root: XMLNode?
        var error: String?

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if root != nil { error = "more than one root element"; parser.abortParsing(); return }
            stack.append(XMLNode(name: name, children: [], text: ""))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if stack.isEmpty {
                if !string.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { error = "text outside the root element"; parser.abortParsing() }
                return
            }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            guard let node = stack.popLast() else { return }
            if stack.isEmpty { root = node } else { stack[stack.count - 1].children.append(node) }
        }

        func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) { error = error ?? "\(parseError)" }
    }
}
