import Core

/// OpenAPI path items of the LDAP Auth routes.
enum LDAPAuthOpenAPI {
    static let fields = """
        "url":{"type":"string","maxLength":512},"bindDN":{"type":"string","maxLength":1024},"bindPass":{"type":"string","maxLength":1024,"writeOnly":true},
        "searchBase":{"type":"string","maxLength":1024},"searchFilter":{"type":"string","maxLength":1024},
        "allowedFields":{"type":"array","maxItems":20,"items":{"type":"object","required":["key","value"],"properties":{"key":{"type":"string","maxLength":64},"value":{"type":"string","maxLength":4096}}}},
        "allowedGroupDNs":{"type":"array","maxItems":20,"items":{"type":"string","maxLength":1024}},"ldapCaCertificate":{"type":"string","maxLength":65536}
        """
    static let login = """
        {"type":"object","required":["identityId","username","password"],"properties":{"identityId":{"type":"string","maxLength":128},
        "username":{"type":"string","maxLength":256},"password":{"type":"string","maxLength":1024}}}
        """
    static let paths = AuthConfigOpenAPI.paths(method: "ldap-auth", displayName: "LDAP Auth", ownFields: fields,
                                               required: ["url", "bindDN", "bindPass", "searchBase"], login: login)
}
