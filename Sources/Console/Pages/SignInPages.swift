import Core
import Foundation
import Hummingbird

/// Sign-in (the API's user login) and sign-out (the token revoked, the session deleted).
struct SignInPages: Sendable {
    let app: ConsoleApp

    func register(_ group: RouterGroup<KMSRequestContext>) {
        group.get("/") { request, _ in
            try await app.session(request) == nil ? app.redirect("/login") : app.redirect("/projects")
        }
        group.get("/login") { request, _ in
            if try await app.session(request) != nil { return app.redirect("/projects") }
            return form(request, message: request.uri.queryParameters.get("signedOut") != nil ? "You are signed out." : nil, error: nil)
        }
        group.post("/login", use: signIn)
        group.post("/logout", use: signOut)
    }

    /// The sign-in form with a fresh login CSRF token (a double-submit cookie).
    func form(_ request: Request, message: String?, error: String?, email: String = "", status: HTTPResponse.Status = .ok) -> Response {
        let csrf = SecureRandom.token()
        var data: [String: Any] = ["loginCsrf": csrf, "loginEmail": email]
        if let message { data["notice"] = message }
        if let error { data["error"] = error }
        return app.html("login", app.layout(nil, title: "Sign in", section: "login", data), status: status,
                        cookies: [app.cookie(app.loginCSRFCookie, csrf, maxAge: 3600)])
    }

    @Sendable func signIn(_ request: Request, context: KMSRequestContext) async throws -> Response {
        let form = try await FormBody.read(request)
        guard ConsoleApp.sameOrigin(request), let expected = request.cookies[app.loginCSRFCookie]?.value, let field = form["csrf"],
              SecureRandom.constantTimeEquals(expected, field) else {
            return self.form(request, message: nil, error: "The sign-in form expired (CSRF check failed). Try again.", status: .forbidden)
        }
        let email = form.text("email") ?? ""
        var body: [String: JSONValue] = ["email": .string(email), "password": .string(form["password"] ?? "")]
        if let org = form.text("organizationId") { body["organizationId"] = .string(org) }
        let answer = try await app.api.call(.post, "/api/v1/auth/user/login", bearer: nil, json: .object(body), context: context,
                                            forwarded: ConsoleApp.forwarded(request))
        guard answer.ok, let token = answer.body["accessToken"]?.string else {
            let message = answer.status == .unauthorized ? "Invalid e-mail or password." : answer.message
            return self.form(request, message: nil, error: message, email: email, status: answer.status)
        }
        let me = try await app.api.call(.get, "/api/v1/auth/token/self", bearer: token, context: context, forwarded: ConsoleApp.forwarded(request))
        guard let userId = me.body["userId"]?.string, let orgId = answer.body["organizationId"]?.string else {
            _ = try? await app.platform.tokens.revoke(token)  // never leave a token behind that no session holds
            throw APIError(.internalError, "the signed-in token does not name its person")
        }
        var expiresIn = 0
        if case .number(let n)? = answer.body["expiresIn"] { expiresIn = Int(n) }
        // A sign-in replaces the browser's earlier session rather than leaving it alive.
        if let earlier = try await app.session(request) { try await app.sessions.end(hash: earlier.idHash, token: earlier.token) }
        let cookie = try await app.sessions.create(userId: userId, orgId: orgId, email: email.lowercased(), orgRole: me.body["orgRole"]?.string ?? "member",
                                                   token: token, tokenExpiresIn: expiresIn)
        return app.redirect("/projects", cookies: [app.cookie(app.sessionCookie, cookie), app.cookie(app.loginCSRFCookie, "", maxAge: 0)])
    }

    @Sendable func signOut(_ request: Request, context: KMSRequestContext) async throws -> Response {
        let clear = app.cookie(app.sessionCookie, "", maxAge: 0)
        guard let session = try await app.session(request) else { return app.redirect("/login", cookies: [clear]) }
        let form = try await FormBody.read(request)
        guard ConsoleApp.sameOrigin(request), let token = form["csrf"], SecureRandom.constantTimeEquals(token, session.csrf) else {
            return app.html("error", app.layout(session, title: "Form refused", section: "none",
                                                 ["status": 403, "message": "Sign-out refused: the CSRF check failed. Reload the page and try again."]), status: .forbidden)
        }
        // Through the API, so the revocation is audited with the person as actor.
        let revoked = try await app.api.call(.post, "/api/v1/auth/token/revoke", bearer: nil, json: .object(["accessToken": .string(session.token)]),
                                             context: context, forwarded: ConsoleApp.forwarded(request))
        if !revoked.ok && revoked.status != .unauthorized {
            context.logger.warning("console sign-out: revoking the token failed", metadata: ["status": "\(revoked.status.code)"])
            // The session ends anyway; the token must not outlive it.
            try await app.sessions.end(hash: session.idHash, token: session.token)
        }
        try await app.sessions.delete(hash: session.idHash)
        return app.redirect("/login?signedOut=1", cookies: [clear])
    }
}
