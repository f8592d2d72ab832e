import Core
import Foundation
import Hummingbird

/// LDAP Auth's login: `{identityId, username, password}`. Core serves the config routes.
struct LDAPAuthRoutes: Sendable {
    let platform: Platform
    let provider: LDAPAuthProvider
    let directory: LDAPDirectory
    /// Built once: it holds the login metrics.
    let logins: IdentityLogin<LDAPAuthProvider>

    /// Every refused login gets this answer, whatever the reason (the audit log has it).
    static let refusal = APIError.unauthorized("invalid LDAP username or password")

    init(platform: Platform, provider: LDAPAuthProvider, directory: LDAPDirectory) {
        self.platform = platform
        self.provider = provider
        self.directory = directory
        logins = IdentityLogin(provider: provider, platform: platform, refusal: Self.refusal)
    }

    func register(_ routes: PluginRoutes) { logins.register(routes, loginPath: "/api/v1/auth/ldap-auth/login", login: login) }

    struct LoginInput: Decodable { let identityId: String; let username: String; let password: String }

    @Sendable func login(_ request: Request, context: KMSRequestContext) async throws -> (token: String, record: AccessTokenRecord) {
        let input = try await request.json(LoginInput.self, context: context)
        guard (1...256).contains(input.username.count), !input.username.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw APIError.badRequest("username must be 1-256 characters without control characters")
        }
        guard input.password.utf8.count <= 1024 else { throw APIError.badRequest("password must be at most 1024 bytes") }
        let issued = try await logins.login(identityId: input.identityId, context: context) { config in
            guard let config else { throw LoginRefusal("the identity has no LDAP Auth") }
            // To a directory an empty password is an anonymous bind, which succeeds: never send one.
            guard !input.password.isEmpty else { throw LoginRefusal("empty password for '\(input.username)'") }
            let verified = try await directory.verify(config: config.own, username: input.username, password: input.password)
            return ["username": input.username, "userDN": verified.dn]
        }
        return issued
    }
}
