import Core
import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The web console's shared parts: templates, sessions, the in-process API and the security
/// headers every page carries. Pages act only through the HTTP API as the signed-in person, so the
/// API's RBAC decides what they see and do, and its audit entries name the person.
struct ConsoleApp: Sendable {
    let platform: Platform
    let api: InProcessAPI
    let providers: ProviderRegistry
    let sessions: ConsoleSessionStore
    let templates: MustacheLibrary
    /// Cookies get `Secure` (and the `__Host-` name) when the public URL is https.
    let secureCookies: Bool

    var sessionCookie: String { secureCookies ? "__Host-kms_session" : "kms_session" }
    var loginCSRFCookie: String { secureCookies ? "__Host-kms_login_csrf" : "kms_login_csrf" }

    /// Everything a console page may load: its own scripts and styles, nothing inline, no frames.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    func securityHeaders(_ headers: inout HTTPFields) {
        Self.securityHeaders(&headers)
        if secureCookies { headers[.init("Strict-Transport-Security")!] = "max-age=31536000" }
    }

    static func securityHeaders(_ headers: inout HTTPFields) {
        headers[.init("Content-Security-Policy")!] = contentSecurityPolicy
        headers[.init("X-Frame-Options")!] = "DENY"
        headers[.init("Referrer-Policy")!] = "no-referrer"
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        headers[.cacheControl] = "no-store"
    }

    /// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Secure with https.
    func cookie(_ name: String, _ value: String, path: String = "/", maxAge: Int? = nil) -> String {
        var parts = ["\(name)=\(value)", "Path=\(path)", "HttpOnly", "SameSite=Strict"]
        if secureCookies { parts.append("Secure") }
        if let maxAge { parts.append("Max-Age=\(maxAge)") }
        return parts.joined(separator: "; ")
    }

    // MARK: rendering

    /// Renders `template` inside the layout.
    func html(_ template: String, _ data: [String: Any], status: HTTPResponse.Status = .ok, cookies: [String] = []) -> Response {
        let body = templates.render(data, withTemplate: template) ?? "<!doctype html><title>Error</title><p>template \(template) is missing</p>"
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        securityHeaders(&headers)
        for c in cookies { headers.append(HTTPField(name: .setCookie, value: c)) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// A 303 to `location` (a path of the console).
    func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        securityHeaders(&headers)
        for c in cookies { headers.append(HTTPField(name: .setCookie, value: c)) }
        return Response(status: .seeOther, headers: headers)
    }

    /// The data every page's layout reads.
    func layout(_ session: ConsoleSession?, title: String, section: String, _ data: [String: Any]) -> [String: Any] {
        var all = data
        all["title"] = title
        all["section_" + section] = true
        if let session {
            all["signedIn"] = true
            all["email"] = session.email
            all["orgId"] = session.orgId
            all["csrf"] = session.csrf
            all["orgAdmin"] = session.orgRole == "admin"
            if let flash = session.flash { all["flash"] = flash }
        }
        return all
    }

    // MARK: sessions and forms

    /// The request's live session, or nil.
    func session(_ request: Request) async throws -> ConsoleSession? {
        guard let cookie = request.cookies[sessionCookie]?.value else { return nil }
        return try await sessions.find(cookie: cookie)
    }

    /// Whether a form post comes from a page of this console: browsers say where a request
    /// comes from (`Sec-Fetch-Site`, else `Origin`); a sibling subdomain is same-site but not
    /// same-origin, so SameSite cookies alone would let it post. Clients that say nothing
    /// (not a browser) still need the CSRF token.
    static func sameOrigin(_ request: Request) -> Bool {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!] { return site == "same-origin" || site == "none" }
        guard let origin = request.headers[HTTPField.Name("Origin")!] else { return true }
        guard let url = URL(string: origin), let host = url.host, let authority = request.head.authority else { return false }
        return (url.port.map { "\(host):\($0)" } ?? host).lowercased() == authority.lowercased()
    }

    /// Headers of the page request that the API reads as well.
    static func forwarded(_ request: Request) -> HTTPFields {
        var headers = HTTPFields()
        for name in [HTTPField.Name.userAgent, HTTPField.Name("X-Forwarded-For")!] {
            if let value = request.headers[name] { headers[name] = value }
        }
        return headers
    }
}

/// One request of a signed-in person: the session and the API as that person.
struct ConsoleCall: Sendable {
    let app: ConsoleApp
    let session: ConsoleSession
    let request: Request
    let context: KMSRequestContext

    /// Calls the API as the person.
    func api(_ method: HTTPRequest.Method, _ path: String, _ json: [String: JSONValue]? = nil) async throws -> InProcessAPI.Answer {
        let answer = try await app.api.call(method, path, bearer: session.token, json: json.map(JSONValue.object), context: context,
                                            forwarded: ConsoleApp.forwarded(request))
        // The token was revoked or expired under the session: the session is over.
        if answer.status == .unauthorized {
            try await app.sessions.delete(hash: session.idHash)
            throw ConsoleSignedOut()
        }
        return answer
    }

    /// A read the page cannot do without: anything but 2xx ends the page with the API's answer.
    func read(_ path: String) async throws -> JSONValue {
        let answer = try await api(.get, path)
        guard answer.ok else { throw ConsolePageFailure(status: answer.status, message: answer.message) }
        return answer.body
    }

    /// Sets the notice of the next page and redirects there.
    func done(_ location: String, _ notice: String) async throws -> Response {
        try await app.sessions.setFlash(session.idHash, notice)
        return app.redirect(location)
    }

    func page(_ template: String, title: String, section: String, _ data: [String: Any], status: HTTPResponse.Status = .ok) async throws -> Response {
        if session.flash != nil { try await app.sessions.setFlash(session.idHash, nil) }
        return app.html(template, app.layout(session, title: title, section: section, data), status: status)
    }
}

/// The session ended (signed out elsewhere, token revoked, timed out).
struct ConsoleSignedOut: Error {}

/// A page that cannot be shown: the API's status and message.
struct ConsolePageFailure: Error {
    let status: HTTPResponse.Status
    let message: String
}

/// Percent-encodes a query or path component.
func urlPart(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
}

/// RFC 3986's unreserved characters, ASCII only (`alphanumerics` would let other letters through).
private let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

/// A template value that is false when there is nothing to show (an empty string would render
/// its section, and a missing key would fall through to the page around it).
func flag(_ text: String?) -> Any {
    guard let text, !text.isEmpty else { return false }
    return text
}
