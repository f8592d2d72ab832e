import Core
import Foundation
import HTTPTypes
import Hummingbird

/// Errors that are not a page of their own (storage down, a body too large, a bug) become an
/// HTML error page with the console's headers instead of the API's JSON.
struct ConsoleErrorMiddleware: RouterMiddleware {
    typealias Context = KMSRequestContext
    let app: ConsoleApp

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = ErrorMiddleware.map(error)
            if apiError.code == .internalError {
                context.logger.error("console page failed", metadata: ["error": "\(String(reflecting: type(of: error)))", "detail": "\(error)"])
            }
            let message = apiError.code == .payloadTooLarge ? "The form is too large." : apiError.message
            return app.html("error", app.layout(nil, title: "Error \(apiError.code.status.code)", section: "none",
                                                ["status": Int(apiError.code.status.code), "message": message]), status: apiError.code.status)
        }
    }
}

/// The console's routes, all outside `/api`: pages (GET, no side effects) and form posts (each
/// checked for the session's CSRF token before anything else).
struct ConsoleRoutes: Sendable {
    let app: ConsoleApp

    func register(_ group: RouterGroup<KMSRequestContext>) {
        SignInPages(app: app).register(group)
        OrganizationPages(app: app, routes: self).register(group)
        IdentityPages(app: app, routes: self).register(group)
        SecretOverviewPages(app: app, routes: self).register(group)
        DynamicSecretPages(app: app, routes: self).register(group)
        PAMPages(app: app, routes: self).register(group)
        AuditPages(app: app, routes: self).register(group)
        group.get("/assets/console.css") { _, _ in Self.asset(PackageResources.console_css, type: "text/css; charset=utf-8") }
        group.get("/assets/console.js") { _, _ in Self.asset(PackageResources.console_js, type: "text/javascript; charset=utf-8") }
        group.get("/assets/favicon.svg") { _, _ in Self.asset(PackageResources.favicon_svg, type: "image/svg+xml") }
        group.get("/favicon.ico") { _, _ in Self.asset(PackageResources.favicon_svg, type: "image/svg+xml") }
    }

    static func asset(_ bytes: [UInt8], type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        ConsoleApp.securityHeaders(&headers)
        headers[.cacheControl] = "public, max-age=300"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A page for a signed-in person; without a session, the sign-in page.
    func page(_ request: Request, _ context: KMSRequestContext, _ body: (ConsoleCall) async throws -> Response) async throws -> Response {
        guard let session = try await app.session(request) else { return app.redirect("/login") }
        let call = ConsoleCall(app: app, session: session, request: request, context: context)
        do {
            return try await body(call)
        } catch is ConsoleSignedOut {
            return app.redirect("/login", cookies: [app.cookie(app.sessionCookie, "", maxAge: 0)])
        } catch let failure as ConsolePageFailure {
            return try await call.page("error", title: "Error \(failure.status.code)", section: "none",
                                       ["status": Int(failure.status.code), "message": failure.message], status: failure.status)
        }
    }

    /// A form post of a signed-in person: refused before anything else without the session's
    /// CSRF token.
    func action(_ request: Request, _ context: KMSRequestContext, _ body: (ConsoleCall, FormBody) async throws -> Response) async throws -> Response {
        guard let session = try await app.session(request) else { return app.redirect("/login") }
        let form = try await FormBody.read(request)
        guard ConsoleApp.sameOrigin(request), let token = form["csrf"], SecureRandom.constantTimeEquals(token, session.csrf) else {
            let call = ConsoleCall(app: app, session: session, request: request, context: context)
            return try await call.page("error", title: "Form refused", section: "none", ["status": 403,
                "message": "This form did not come from your current console session (CSRF check failed). Reload the page and try again."], status: .forbidden)
        }
        return try await page(request, context) { call in try await body(call, form) }
    }
}
