/// Core's schema. Plugins bring their own migrations under their own owner name.
public enum CoreMigrations {
    public static let all: [Migration] = [
        Migration(owner: "core", version: 1, name: "tenancy, tokens, audit", statements: [
            """
            CREATE TABLE instance_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, created_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE organizations (id TEXT PRIMARY KEY, name TEXT NOT NULL, slug TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
                is_instance_admin BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE org_memberships (org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, role TEXT NOT NULL,
                created_at BIGINT NOT NULL, PRIMARY KEY (org_id, user_id))
            """,
            """
            CREATE TABLE identities (id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                name TEXT NOT NULL, role TEXT NOT NULL, is_instance_admin BIGINT NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
            "CREATE INDEX identities_org ON identities (org_id)",
            """
            CREATE TABLE identity_auth_methods (identity_id TEXT NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
                method TEXT NOT NULL, config_id TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (identity_id, method))
            """,
            """
            CREATE TABLE projects (id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                name TEXT NOT NULL, slug TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
                UNIQUE (org_id, slug))
            """,
            """
            CREATE TABLE environments (id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                name TEXT NOT NULL, slug TEXT NOT NULL, position BIGINT NOT NULL, created_at BIGINT NOT NULL,
                UNIQUE (project_id, slug))
            """,
            """
            CREATE TABLE project_identity_memberships (project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                identity_id TEXT NOT NULL REFERENCES identities(id) ON DELETE CASCADE, role TEXT NOT NULL,
                id TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (project_id, identity_id))
            """,
            """
            CREATE TABLE project_user_memberships (project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, role TEXT NOT NULL,
                id TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (project_id, user_id))
            """,
            """
            CREATE TABLE access_tokens (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE,
                org_id TEXT NOT NULL, identity_id TEXT, user_id TEXT, auth_method TEXT NOT NULL, auth_config_id TEXT,
                ttl BIGINT NOT NULL, max_ttl BIGINT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT,
                max_expires_at BIGINT, num_uses_limit BIGINT NOT NULL, num_uses BIGINT NOT NULL DEFAULT 0,
                trusted_ips TEXT NOT NULL, revoked_at BIGINT)
            """,
            "CREATE INDEX access_tokens_identity ON access_tokens (identity_id)",
            "CREATE INDEX access_tokens_config ON access_tokens (auth_config_id)",
            """
            CREATE TABLE audit_heads (org_id TEXT PRIMARY KEY, seq BIGINT NOT NULL, last_hash TEXT NOT NULL)
            """,
            """
            CREATE TABLE audit_log (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, seq BIGINT NOT NULL,
                prev_hash TEXT NOT NULL, hash TEXT NOT NULL, event_type TEXT NOT NULL, actor_type TEXT NOT NULL,
                actor_id TEXT, actor_metadata TEXT NOT NULL, ip_address TEXT, user_agent TEXT, project_id TEXT,
                event_metadata TEXT NOT NULL, created_at BIGINT NOT NULL, UNIQUE (org_id, seq))
            """,
            "CREATE INDEX audit_log_org_time ON audit_log (org_id, created_at)",
        ]),
        Migration(owner: "core", version: 2, name: "dynamic secrets and leases", statements: [
            """
            CREATE TABLE dynamic_secrets (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE, path TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
                version BIGINT NOT NULL, default_ttl BIGINT NOT NULL, max_ttl BIGINT NOT NULL, inputs TEXT NOT NULL, sealed_inputs TEXT NOT NULL,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, UNIQUE (environment_id, path, name))
            """,
            """
            CREATE TABLE leases (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, project_id TEXT NOT NULL, dynamic_secret_id TEXT NOT NULL,
                external_entity_id TEXT NOT NULL, status TEXT NOT NULL, status_details TEXT, version BIGINT NOT NULL,
                created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, expire_at BIGINT NOT NULL, max_expire_at BIGINT NOT NULL,
                attempts BIGINT NOT NULL DEFAULT 0, next_attempt_at BIGINT NOT NULL DEFAULT 0, claimed_until BIGINT NOT NULL DEFAULT 0)
            """,
            "CREATE INDEX leases_due ON leases (status, expire_at)",
            "CREATE INDEX leases_secret ON leases (dynamic_secret_id)",
        ]),
        Migration(owner: "core", version: 3, name: "pam sessions", statements: [
            """
            CREATE TABLE pam_sessions (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, project_id TEXT NOT NULL, resource_type TEXT NOT NULL,
                resource_id TEXT NOT NULL, account_id TEXT NOT NULL, user_id TEXT NOT NULL, user_email TEXT NOT NULL, ip_address TEXT,
                user_agent TEXT, reason TEXT, access_method TEXT NOT NULL, target TEXT NOT NULL, federated_username TEXT NOT NULL,
                status TEXT NOT NULL, started_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, ended_at BIGINT)
            """,
            "CREATE INDEX pam_sessions_project ON pam_sessions (project_id, started_at)",
            "CREATE INDEX pam_sessions_due ON pam_sessions (status, expires_at)",
        ]),
        Migration(owner: "core", version: 4, name: "invitations, lease config snapshots", statements: [
            """
            CREATE TABLE org_invitations (id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                email TEXT NOT NULL, role TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, invited_by TEXT NOT NULL,
                created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, accepted_at BIGINT, accepted_user_id TEXT,
                failed_attempts BIGINT NOT NULL DEFAULT 0)
            """,
            "CREATE INDEX org_invitations_org ON org_invitations (org_id, email)",
            // Each lease keeps the provider config it was made with, so revocation never depends on
            // later edits of (or the deletion of) its dynamic secret or project.
            "ALTER TABLE leases ADD COLUMN provider_type TEXT",
            "ALTER TABLE leases ADD COLUMN inputs TEXT",
            "ALTER TABLE leases ADD COLUMN sealed_inputs TEXT",
            """
            UPDATE leases SET provider_type = (SELECT d.type FROM dynamic_secrets d WHERE d.id = leases.dynamic_secret_id),
                inputs = (SELECT d.inputs FROM dynamic_secrets d WHERE d.id = leases.dynamic_secret_id),
                sealed_inputs = (SELECT d.sealed_inputs FROM dynamic_secrets d WHERE d.id = leases.dynamic_secret_id)
            WHERE status IN ('active', 'creating', 'revocation_failed')
            """,
        ]),
        Migration(owner: "core", version: 5, name: "login lockouts", statements: [
            """
            CREATE TABLE login_lockouts (identity_id TEXT NOT NULL, method TEXT NOT NULL, client_ip TEXT NOT NULL, failures BIGINT NOT NULL,
                last_failure_at BIGINT NOT NULL, locked_until BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (identity_id, method, client_ip))
            """,
            // Each identity auth config's lockout settings; a config without a row has the defaults.
            """
            CREATE TABLE auth_lockout_policies (config_id TEXT PRIMARY KEY, enabled BIGINT NOT NULL, threshold BIGINT NOT NULL,
                duration BIGINT NOT NULL, counter_reset BIGINT NOT NULL)
            """,
        ]),
        // PAM resources and accounts of every provider; a provider's own fields are `details` (JSON).
        Migration(owner: "core", version: 6, name: "pam resources and accounts", statements: [
            """
            CREATE TABLE pam_resources (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                resource_type TEXT NOT NULL, name TEXT NOT NULL, details TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
                UNIQUE (project_id, name))
            """,
            """
            CREATE TABLE pam_accounts (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, project_id TEXT NOT NULL,
                resource_id TEXT NOT NULL REFERENCES pam_resources(id) ON DELETE CASCADE, resource_type TEXT NOT NULL, name TEXT NOT NULL,
                description TEXT, details TEXT NOT NULL, session_duration BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
                UNIQUE (resource_id, name))
            """,
            "CREATE INDEX pam_accounts_project ON pam_accounts (project_id)",
        ]),
        // Just-in-time PAM: access policies, requests and reviews, source identities, revocations
        // (the state of each role's deny policy) and notifications (an outbox).
        Migration(owner: "core", version: 7, name: "pam approvals and revocation", statements: [
            "ALTER TABLE pam_accounts ADD COLUMN access_policy TEXT NOT NULL DEFAULT '{}'",
            "ALTER TABLE pam_sessions ADD COLUMN request_id TEXT",
            "ALTER TABLE pam_sessions ADD COLUMN source_identity TEXT",
            """
            CREATE TABLE pam_access_requests (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                account_id TEXT NOT NULL, requester_id TEXT NOT NULL, requester_email TEXT NOT NULL, status TEXT NOT NULL, duration BIGINT NOT NULL,
                reason TEXT, created_at BIGINT NOT NULL, pending_until BIGINT NOT NULL, decided_at BIGINT, grant_expires_at BIGINT, grant_closed_at BIGINT)
            """,
            "CREATE INDEX pam_access_requests_project ON pam_access_requests (project_id, created_at)",
            "CREATE INDEX pam_access_requests_due ON pam_access_requests (status, pending_until)",
            "CREATE INDEX pam_access_requests_grants ON pam_access_requests (account_id, requester_id, status)",
            """
            CREATE TABLE pam_access_reviews (request_id TEXT NOT NULL REFERENCES pam_access_requests(id) ON DELETE CASCADE, reviewer_id TEXT NOT NULL,
                reviewer_email TEXT NOT NULL, decision TEXT NOT NULL, comment TEXT, created_at BIGINT NOT NULL, PRIMARY KEY (request_id, reviewer_id))
            """,
            """
            CREATE TABLE pam_revocations (target TEXT NOT NULL, source_identity TEXT NOT NULL, revoked_at BIGINT NOT NULL, remove_after BIGINT NOT NULL,
                PRIMARY KEY (target, source_identity))
            """,
            "CREATE INDEX pam_revocations_due ON pam_revocations (remove_after)",
            // One row per target whose deny policy kms manages: the lock that orders writers, and
            // whether the policy as written still matches the rows.
            """
            CREATE TABLE pam_revocation_targets (target TEXT PRIMARY KEY, org_id TEXT NOT NULL, project_id TEXT NOT NULL, resource_id TEXT NOT NULL,
                resource_type TEXT NOT NULL, lock_owner TEXT, lock_until BIGINT NOT NULL DEFAULT 0, dirty BIGINT NOT NULL DEFAULT 1,
                generation BIGINT NOT NULL DEFAULT 0, last_error TEXT, updated_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE pam_notification_settings (project_id TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE, org_id TEXT NOT NULL,
                url TEXT NOT NULL, sealed_secret TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE pam_notifications (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, event TEXT NOT NULL, payload TEXT NOT NULL,
                attempts BIGINT NOT NULL DEFAULT 0, next_attempt_at BIGINT NOT NULL, delivered_at BIGINT, last_error TEXT, created_at BIGINT NOT NULL)
            """,
            "CREATE INDEX pam_notifications_due ON pam_notifications (delivered_at, next_attempt_at)",
        ]),
        // Scale (issue 16): the reaper finds due leases through partial indexes that hold only
        // live leases, so a pass costs O(due) however many settled leases the table keeps; audit
        // filters page by sequence (keyset) through an index per filter.
        Migration(owner: "core", version: 8, name: "indexes for due leases and audit filters", statements: [
            "CREATE INDEX leases_live_due ON leases (expire_at) WHERE status IN ('active', 'revocation_failed')",
            "CREATE INDEX leases_creating ON leases (created_at) WHERE status = 'creating'",
            "CREATE INDEX leases_secret_newest ON leases (dynamic_secret_id, created_at)",
            "CREATE INDEX audit_log_org_event ON audit_log (org_id, event_type, seq)",
            "CREATE INDEX audit_log_org_actor ON audit_log (org_id, actor_id, seq)",
            "CREATE INDEX audit_log_org_project ON audit_log (org_id, project_id, seq)",
        ]),
        // What a provider needs to revoke an entity without searching for it (issue 16: an IAM
        // user's access key id spares a ListAccessKeys per revocation).
        Migration(owner: "core", version: 9, name: "lease revocation state", statements: [
            "ALTER TABLE leases ADD COLUMN sealed_revocation_state TEXT",
        ]),
    ]
}
