import Core

/// LDAP Auth's table, under its `ldap_auth_` prefix.
enum LDAPAuthMigrations {
    static func all(owner: String) -> [Migration] {
        [Migration(owner: owner, version: 1, name: "ldap auth configs", statements: [
            """
            CREATE TABLE ldap_auth_configs (id TEXT PRIMARY KEY, identity_id TEXT NOT NULL UNIQUE REFERENCES identities(id) ON DELETE CASCADE,
                org_id TEXT NOT NULL, url TEXT NOT NULL, bind_dn TEXT NOT NULL, sealed_bind_pass TEXT NOT NULL, search_base TEXT NOT NULL,
                search_filter TEXT NOT NULL, allowed_fields TEXT NOT NULL, allowed_group_dns TEXT NOT NULL, ca_cert TEXT NOT NULL,
                ttl BIGINT NOT NULL, max_ttl BIGINT NOT NULL, num_uses_limit BIGINT NOT NULL, trusted_ips TEXT NOT NULL,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
        ])]
    }
}
