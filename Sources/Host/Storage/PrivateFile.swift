import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files that hold secrets or secret-bearing data (the store, its WAL, the generated key):
/// created owner-only in one step, never through a symbolic link, and refused when someone else
/// owns them (a planted key or WAL); looser modes of our own files are tightened.
enum PrivateFile {
    static func failure(_ what: String, _ path: String) -> ConfigError {
        ConfigError("\(what) \(path): \(String(cString: strerror(errno)))")
    }

    /// Refuses a file descriptor that another user owns, and makes it 0600.
    static func secure(_ fd: Int32, _ path: String) throws {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("cannot inspect", path) }
        guard info.st_uid == geteuid() else {
            throw ConfigError("\(path) belongs to another user (uid \(info.st_uid)); refusing to use it")
        }
        guard fchmod(fd, 0o600) == 0 else { throw failure("cannot restrict to mode 0600", path) }
    }

    /// Makes sure `path` exists, is ours and has mode 0600, creating it with that mode at once.
    static func ensure(_ path: String) throws {
        let fd = Glibc.open(path, O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw failure("cannot open", path) }
        defer { close(fd) }
        try secure(fd, path)
    }

    /// Tightens an existing file of ours to 0600; a missing file is fine, another user's is not.
    static func tighten(_ path: String) throws {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 {
            if errno == ENOENT { return }
            throw failure("cannot open", path)
        }
        defer { close(fd) }
        try secure(fd, path)
    }

    /// Writes `contents` to a new file at `path` with mode 0600; an existing file is an error,
    /// so a key is never silently replaced.
    static func create(_ path: String, contents: Data) throws {
        let fd = Glibc.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw failure("cannot create", path) }
        defer { close(fd) }
        let written = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == contents.count, fsync(fd) == 0 else { throw ConfigError("cannot write \(path)") }
    }

    /// Makes `path` an owner-only directory (0700), creating it if needed; an existing
    /// directory must be ours.
    static func directory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var info = stat()
        guard lstat(path, &info) == 0 else { throw failure("cannot inspect", path) }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw ConfigError("\(path) is not a directory") }
        guard info.st_uid == geteuid() else { throw ConfigError("the data directory \(path) belongs to another user; refusing to use it") }
        guard chmod(path, 0o700) == 0 else { throw failure("cannot restrict to mode 0700", path) }
    }
}
