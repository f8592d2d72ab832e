import Core

/// The console's tables, under its `console_` prefix.
enum ConsoleMigrations {
    static func all(owner: String) -> [Migration] {
        [Migration(owner: owner, version: 1, name: "console sessions", statements: [
            """
            CREATE TABLE console_sessions (id_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                org_id TEXT NOT NULL, email TEXT NOT NULL, org_role TEXT NOT NULL, token_sealed TEXT NOT NULL, csrf TEXT NOT NULL, flash TEXT,
                created_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)
            """,
            "CREATE INDEX console_sessions_expiry ON console_sessions (expires_at)",
            "CREATE INDEX console_sessions_seen ON console_sessions (last_seen_at)",
        ])]
    }
}
