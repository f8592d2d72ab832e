import Core

/// The streams' table, under the plugin's `audit_stream_` prefix. Delivery state (cursor, lease,
/// backoff, last outcome) lives with each stream, so any replica can take over.
enum AuditStreamMigrations {
    static func all(owner: String) -> [Migration] {
        [Migration(owner: owner, version: 1, name: "audit log streams", statements: [
            """
            CREATE TABLE audit_stream_configs (id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                name TEXT NOT NULL, kind TEXT NOT NULL, destination TEXT NOT NULL, sealed_secrets TEXT NOT NULL,
                cursor_seq BIGINT NOT NULL, lease_owner TEXT, lease_until BIGINT NOT NULL DEFAULT 0, next_attempt_at BIGINT NOT NULL DEFAULT 0,
                failures BIGINT NOT NULL DEFAULT 0, last_success_at BIGINT, last_error TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
                UNIQUE (org_id, name))
            """,
        ])]
    }
}
