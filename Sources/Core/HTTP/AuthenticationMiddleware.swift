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
        guard let header = request.headers[.authorization], header.count > 7,
              header.prefix(7).lowercased() == "bearer " else {
            throw APIError.unauthorized("missing bearer token in the Authorization header")
        }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
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
}
