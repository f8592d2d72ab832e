import Core
import Foundation
import Testing
@testable import Host

/// Issue 10, item 14: the store, its WAL and the generated key are owner-only even when the
/// data directory already exists and the process umask is permissive.
@Suite("Data files are private", .serialized)
struct PrivateFileTests {
    static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func storeWALAndKeyAreCreated0600InAnExistingOpenDirectory() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kms-perm-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let old = umask(0o022)
        defer { umask(old) }
        let path = dir + "/kms.sqlite"
        let db = try await SQLiteDatabase.open(path: path, logger: TestSupport.logger)
        try await db.query("CREATE TABLE t (x TEXT)", [])
        try await db.query("INSERT INTO t VALUES ('secret')", [])
        #expect(try Self.mode(path) == 0o600)
        #expect(try Self.mode(path + "-wal") == 0o600)
        try await db.close()

        var config = KMSConfig()
        config.dataDir = dir
        _ = try KeyLoader.rootKey(config: config)
        #expect(try Self.mode(dir + "/encryption.key") == 0o600)
        #expect(try Self.mode(dir) == 0o700, "the data directory is tightened too")
    }

    @Test func looserExistingFilesAreTightened() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kms-perm-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/kms.sqlite"
        #expect(FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644]))
        let db = try await SQLiteDatabase.open(path: path, logger: TestSupport.logger)
        try await db.close()
        #expect(try Self.mode(path) == 0o600)
    }

    @Test func plantedFilesAndLinksAreRefused() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kms-perm-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A symbolic link in place of the store is never followed.
        let target = dir + "/elsewhere"
        #expect(FileManager.default.createFile(atPath: target, contents: nil))
        try FileManager.default.createSymbolicLink(atPath: dir + "/kms.sqlite", withDestinationPath: target)
        await #expect(throws: (any Error).self) { _ = try await SQLiteDatabase.open(path: dir + "/kms.sqlite", logger: TestSupport.logger) }
        // A key planted by another user is refused rather than used (the suite runs as root, which can chown).
        let key = dir + "/encryption.key"
        #expect(FileManager.default.createFile(atPath: key, contents: Data((Data(repeating: 7, count: 32).base64EncodedString() + "\n").utf8)))
        #expect(chown(key, 65534, 65534) == 0, "the suite needs to run as root to plant a file of another user")
        var config = KMSConfig()
        config.dataDir = dir
        #expect(throws: ConfigError.self) { _ = try KeyLoader.rootKey(config: config) }
    }
}

@Suite struct PluginNamespaceTests {
    struct Named: KMSPlugin {
        let name: String
        let tablePrefix: String
        func register(_ context: PluginContext) {}
    }

    func check(_ plugins: [any KMSPlugin]) throws { try ServerBuilder.checkNamespaces(plugins) }

    @Test func prefixesMayNotCollide() throws {
        try check(PluginList.all)
        #expect(throws: ConfigError.self, "covers Core's auth_lockout_policies") { try check([Named(name: "auth", tablePrefix: "auth_")]) }
        #expect(throws: ConfigError.self) { try check([Named(name: "a", tablePrefix: "pin_"), Named(name: "b", tablePrefix: "pin_auth_")]) }
        #expect(throws: ConfigError.self) { try check([Named(name: "a", tablePrefix: "")]) }
        #expect(throws: ConfigError.self) { try check([Named(name: "a", tablePrefix: "Bad-")]) }
    }
}
