import Core

/// OIDC Auth's table, under its `oidc_auth_` prefix.
enum OIDCAuthMigrations {
    static func all(owner: String) -> [Migration] {
        [Migration(owner: owner, version: 1, name: "oidc auth configs", statements: [
            """
            CREATE TABLE oidc_auth_configs (id TEXT PRIMARY KEY, identity_id TEXT NOT NULL UNIQUE REFERENCES identities(id) ON DELETE CASCADE,
                org_id TEXT NOT NULL, discovery_url TEXT NOT NULL, ca_cert TEXT NOT NULL, bound_issuer TEXT NOT NULL, bound_audiences TEXT NOT NULL,
                bound_claims TEXT NOT NULL, bound_subject TEXT NOT NULL, ttl BIGINT NOT NULL, max_ttl BIGINT NOT NULL, num_uses_limit BIGINT NOT NULL,
                trusted_ips TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
        ])]
    }
}
