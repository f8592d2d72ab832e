import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files the agent hands out: written whole to a temporary file of the same directory (0600
/// unless asked otherwise) and renamed over the old one, so a reader never sees half a file.
enum FileSink {
    static func write(_ text: String, to path: String, mode: mode_t = 0o600) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/.kms-agent-" + UUID().uuidString
        let fd = open(temporary, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw AgentError("cannot write \(path): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, mode)
        fsync(fd)
        close(fd)
        guard written == bytes.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw AgentError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// An agent failure with a message for people (never a secret).
struct AgentError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
