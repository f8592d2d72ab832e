import Foundation
import Logging
import Synchronization

/// Writes one JSON object per log line to standard error, with the request id and other
/// metadata as fields, so logs can be shipped and queried as they are.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    private static let output = Mutex(())

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (k, v) in metadata { fields[k] = "\(v)" }
        for (k, v) in event.metadata ?? [:] { fields[k] = "\(v)" }
        if let id = fields.removeValue(forKey: "hb.request.id") { fields["reqId"] = id }
        fields["ts"] = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        fields["level"] = event.level.rawValue
        fields["logger"] = label
        fields["msg"] = event.message.description
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var data = try? encoder.encode(fields) else { return }
        data.append(0x0A)
        Self.output.withLock { _ in FileHandle.standardError.write(data) }
    }
}

enum LoggingSetup {
    private static let done = Mutex(false)

    /// Bootstraps swift-log once per process with the configured format and level.
    static func bootstrap(format: String, level: String) {
        let first = done.withLock { d -> Bool in defer { d = true }; return !d }
        guard first else { return }
        let level = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            if format == "text" {
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = JSONLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
