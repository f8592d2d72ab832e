import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files that hold secrets or secret-bearing data (the store, its WAL, the generated key):
/// created owner-only in one step, and tightened when they already exist with looser modes.
enum PrivateFile {
    /// Makes sure `path` exists with mode 0600, creating it atomically with that mode.
    static func ensure(_ path: String) throws {
        let fd = Glibc.open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ConfigError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fchmod(fd, 0o600) == 0 else { throw ConfigError("cannot restrict \(path) to mode 0600") }
    }

    /// Tightens an existing file to 0600; a missing file is fine.
    static func tighten(_ path: String) {
        _ = chmod(path, 0o600)
    }

    /// Writes `contents` to a new file at `path` with mode 0600; an existing file is an error,
    /// so a key is never silently replaced.
    static func create(_ path: String, contents: Data) throws {
        let fd = Glibc.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ConfigError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == contents.count, fsync(fd) == 0 else { throw ConfigError("cannot write \(path)") }
    }

    /// Makes `path` an owner-only directory (0700), creating it if needed.
    static func directory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        _ = chmod(path, 0o700)
    }
}
