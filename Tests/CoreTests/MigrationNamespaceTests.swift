@testable import Core
import Testing

@Suite struct MigrationNamespaceTests {
    func check(_ statements: [String]) throws {
        try Migration(owner: "auth-x", version: 1, name: "t", statements: statements).inNamespace("x_auth_").checkNamespace()
    }

    @Test func aPluginMigrationStaysInsideItsPrefix() throws {
        try check(["CREATE TABLE x_auth_configs (id TEXT PRIMARY KEY)", "CREATE INDEX x_auth_configs_org ON x_auth_configs (org_id)",
                   "ALTER TABLE x_auth_configs ADD COLUMN y TEXT", "CREATE TABLE IF NOT EXISTS x_auth_more(id TEXT)"])
        #expect(throws: StorageError.self) { try check(["CREATE TABLE users_shadow (id TEXT)"]) }
        #expect(throws: StorageError.self) { try check(["ALTER TABLE identities ADD COLUMN backdoor TEXT"]) }
        #expect(throws: StorageError.self) { try check(["CREATE UNIQUE INDEX x_auth_idx ON access_tokens (token_hash)"]) }
        #expect(throws: StorageError.self) { try check(["DROP TABLE audit_log"]) }
        #expect(throws: StorageError.self) { try check(["create   table\n  Tokens2 (id TEXT)"]) }
        // Core's own migrations are not held to a prefix.
        try Migration(owner: "core", version: 9, name: "t", statements: ["CREATE TABLE anything (id TEXT)"]).checkNamespace()
    }
}
