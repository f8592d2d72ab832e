import Core

/// LDAP Auth's form in the web console.
enum LDAPAuthConsoleForm {
    static let form = ConsoleForm(
        target: .identityAuth(method: "ldap-auth"), title: "LDAP Auth",
        summary: "Log in with a directory account's password (search, then bind; TLS only).",
        fields: [
            ConsoleField("url", "LDAP URL", required: true, help: "ldaps://, or ldap:// with StartTLS.", placeholder: "ldaps://ldap.example.com"),
            ConsoleField("bindDN", "Bind DN", required: true),
            ConsoleField("bindPass", "Bind password", .secret, help: "Kept sealed, never shown; empty keeps the stored one."),
            ConsoleField("searchBase", "Search base", required: true, placeholder: "ou=people,dc=example,dc=com"),
            ConsoleField("searchFilter", "Search filter", defaultValue: "(uid={{username}})"),
            ConsoleField("allowedGroupDNs", "Allowed group DNs (one per line)", .list),
            ConsoleField("allowedFields", "Allowed fields (attribute=value per line)", .tags),
            ConsoleField("ldapCaCertificate", "CA certificate (PEM)", .textarea),
        ])
}
