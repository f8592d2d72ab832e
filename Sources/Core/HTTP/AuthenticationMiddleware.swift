import Hummingbird

/// Requires a bearer access token on every route behind it and puts the caller in the context.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = KMSRequestContext
    let tokens: TokenService
    let tenants: TenantStore

    public init(tokens: TokenService, tenants: TenantStore) {
        self.tokens = tokens
        self.tenants = tenants
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], let token = Self.bearerToken(header) else {
            throw APIError.unauthorized("missing bearer token in the Authorization header")
        }
        let record = try await tokens.authenticate(token, clientIP: context.clientIP)
        var context = context
        switch record.subject {
        case .identity:
            context.principal = Principal(token: record)
        case .user(let userId):
            guard let user = try await tenants.user(id: userId) else { throw APIError.unauthorized("invalid access token") }
            context.principal = Principal(token: record, email: user.user.email, userIsInstanceAdmin: user.instanceAdmin)
        }
        return try await next(request, context)
    }

    /// The token of a `Bearer <token>` header (scheme case-insensitive, surrounding spaces and
    /// tabs dropped); nil when the header is not a bearer token. Works on the UTF-8 bytes:
    /// Foundation's trimming was 4 % of an authenticated request.
    static func bearerToken(_ header: String) -> String? {
        let bytes = Array(header.utf8)
        let scheme = Array("bearer ".utf8)
        guard bytes.count > scheme.count,
              zip(bytes, scheme).allSatisfy({ $1 == UInt8(ascii: " ") ? $0 == $1 : $0 | 0x20 == $1 }) else { return nil }
        let token = ASCIIText.trimmingBlanks(bytes[scheme.count...])
        return token.isEmpty ? nil : String(decoding: token, as: UTF8.self)
    }
}
