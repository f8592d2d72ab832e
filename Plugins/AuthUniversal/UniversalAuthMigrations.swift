import Core

/// Universal Auth's tables, all under its `universal_auth_` prefix.
enum UniversalAuthMigrations {
    static func all(owner: String) -> [Migration] {
        [Migration(owner: owner, version: 1, name: "universal auth configs and client secrets", statements: [
            """
            CREATE TABLE universal_auth_configs (id TEXT PRIMARY KEY, identity_id TEXT NOT NULL UNIQUE REFERENCES identities(id) ON DELETE CASCADE,
                org_id TEXT NOT NULL, client_id TEXT NOT NULL UNIQUE, client_secret_trusted_ips TEXT NOT NULL, ttl BIGINT NOT NULL,
                max_ttl BIGINT NOT NULL, num_uses_limit BIGINT NOT NULL, trusted_ips TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE universal_auth_client_secrets (id TEXT PRIMARY KEY,
                config_id TEXT NOT NULL REFERENCES universal_auth_configs(id) ON DELETE CASCADE, identity_id TEXT NOT NULL, org_id TEXT NOT NULL,
                description TEXT NOT NULL, prefix TEXT NOT NULL, secret_hash TEXT NOT NULL, num_uses BIGINT NOT NULL DEFAULT 0,
                num_uses_limit BIGINT NOT NULL, ttl BIGINT NOT NULL, is_revoked BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
            "CREATE INDEX universal_auth_client_secrets_config ON universal_auth_client_secrets (config_id, prefix)",
        ])]
    }
}
