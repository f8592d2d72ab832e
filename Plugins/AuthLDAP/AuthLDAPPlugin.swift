import Core
import Foundation

/// LDAP Auth (Infisical's): a workload or a person logs in with a directory user name and
/// password, found by the config's search and verified by a bind as that user.
///
/// Setting: `KMS_LDAP_ALLOWED_HOSTS`, comma-separated hosts or ranges that directory URLs may
/// name although they are internal (loopback, private, link-local); none by default.
public struct AuthLDAPPlugin: KMSPlugin, AuthProvider {
    public init() {}

    public var name: String { "auth-ldap" }
    public var method: String { "ldap-auth" }
    public var tablePrefix: String { "ldap_auth_" }
    public var migrations: [Migration] { LDAPAuthMigrations.all(owner: name) }
    public var openAPIPaths: [String: String] { LDAPAuthOpenAPI.paths }

    public func register(_ context: PluginContext) throws {
        // libldap must not read ldap.conf, ~/.ldaprc or LDAPTLS_* from the server's
        // environment: every option it uses is set per connection. Set before its first use.
        setenv("LDAPNOINIT", "1", 1)
        let egress = EgressPolicy(allowList: context.settings["KMS_LDAP_ALLOWED_HOSTS"], settingName: "KMS_LDAP_ALLOWED_HOSTS")
        let provider = LDAPAuthProvider(sealer: context.platform.sealer, egress: egress)
        context.providers.register(auth: self)
        context.providers.register(consoleForm: LDAPAuthConsoleForm.form)
        LDAPAuthRoutes(platform: context.platform, provider: provider, directory: LDAPDirectory(caFiles: try LDAPCAFiles(), egress: egress)).register(context.routes)
    }
}
