import ArgumentParser
import Core
import Foundation

/// Reads audit events as a stream delivered them: JSON lines of events, `{"events":[...]}`
/// batches (one per file or one per line), or a directory of such files.
enum ReceivedEvents {
    struct Batch: Decodable { let events: [AuditChainEvent] }

    static func read(_ path: String) throws -> [AuditChainEvent] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw ValidationError("\(path) does not exist") }
        if isDirectory.boolValue {
            let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
            return try names.flatMap { try readFile((path as NSString).appendingPathComponent($0)) }
        }
        return try readFile(path)
    }

    static func readFile(_ path: String) throws -> [AuditChainEvent] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let decoder = JSONDecoder()
        if let batch = try? decoder.decode(Batch.self, from: data) { return batch.events }
        var events: [AuditChainEvent] = []
        // Split the bytes on LF: as Characters, a CRLF line end is one "\r\n" that is not "\n".
        for (number, line) in data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { continue }
            let bytes = Data(text.utf8)
            if let event = try? decoder.decode(AuditChainEvent.self, from: bytes) {
                events.append(event)
            } else if let batch = try? decoder.decode(Batch.self, from: bytes) {
                events += batch.events
            } else {
                throw ValidationError("\(path):\(number + 1) is not an audit event or a batch of them")
            }
        }
        return events
    }
}
