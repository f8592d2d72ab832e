import Core
import Foundation
import Hummingbird

/// PAM: a project's resources ("Create Resource" shows the provider's validation), accounts with
/// "Access" (console in a new tab) and "CLI credentials", and sessions with status and expiry.
struct PAMPages: Sendable {
    let app: ConsoleApp
    let routes: ConsoleRoutes

    static let resourceCommon = [ConsoleField("name", "Resource name", required: true, placeholder: "production-account")]
    static let accountCommon = [ConsoleField("name", "Account name", required: true, placeholder: "read-only"),
                                ConsoleField("description", "Description")]

    func register(_ group: RouterGroup<KMSRequestContext>) {
        group.get("/projects/{pid}/pam") { request, context in
            try await routes.page(request, context) { try await overview($0, projectId: try context.parameter("pid"), state: nil) }
        }
        group.post("/projects/{pid}/pam/resources/{type}") { request, context in
            try await routes.action(request, context) { call, form in
                try await create(call, form, projectId: try context.parameter("pid"), target: .pamResource(type: try context.parameter("type")))
            }
        }
        group.post("/projects/{pid}/pam/accounts/{type}") { request, context in
            try await routes.action(request, context) { call, form in
                try await create(call, form, projectId: try context.parameter("pid"), target: .pamAccount(type: try context.parameter("type")))
            }
        }
        group.post("/projects/{pid}/pam/access") { request, context in
            try await routes.action(request, context) { call, form in try await access(call, form, projectId: try context.parameter("pid")) }
        }
        group.post("/projects/{pid}/pam/requests") { request, context in
            try await routes.action(request, context) { call, form in
                let pid = try context.parameter("pid")
                var body: [String: JSONValue] = ["projectId": .string(pid), "accountId": .string(form.text("accountId") ?? "")]
                if let duration = form.text("duration") { body["duration"] = .string(duration) }
                if let reason = form.text("reason") { body["reason"] = .string(reason) }
                let answer = try await call.api(.post, "/api/v1/pam/access-requests", body)
                guard answer.ok else { return try await overview(call, projectId: pid, state: FormState(formId: "access", values: form.values, message: answer.message), status: answer.status) }
                return try await call.done("/projects/\(urlPart(pid))/pam", "Access requested: an approver must approve it before Access works.")
            }
        }
        group.post("/projects/{pid}/pam/requests/{rid}/{action}") { request, context in
            try await routes.action(request, context) { call, form in
                let pid = try context.parameter("pid"), rid = try context.parameter("rid"), action = try context.parameter("action")
                let answer: InProcessAPI.Answer
                switch action {
                case "approve", "deny":
                    var body: [String: JSONValue] = ["decision": .string(action)]
                    if let comment = form.text("comment") { body["comment"] = .string(comment) }
                    answer = try await call.api(.post, "/api/v1/pam/access-requests/\(urlPart(rid))/review", body)
                case "cancel":
                    answer = try await call.api(.post, "/api/v1/pam/access-requests/\(urlPart(rid))/cancel", [:])
                default:
                    throw ConsolePageFailure(status: .notFound, message: "no such action")
                }
                guard answer.ok else { return try await overview(call, projectId: pid, state: FormState(formId: "requests", values: [:], message: answer.message), status: answer.status) }
                let status = answer.body["accessRequest"]?["status"]?.string ?? ""
                return try await call.done("/projects/\(urlPart(pid))/pam", "Request \(action == "cancel" ? "cancelled" : "reviewed"): it is \(status) now.")
            }
        }
        group.post("/projects/{pid}/pam/sessions/{sid}/revoke") { request, context in
            try await routes.action(request, context) { call, _ in
                let pid = try context.parameter("pid")
                let answer = try await call.api(.post, "/api/v1/pam/sessions/\(urlPart(try context.parameter("sid")))/revoke", [:])
                guard answer.ok else { return try await overview(call, projectId: pid, state: FormState(formId: "sessions", values: [:], message: answer.message), status: answer.status) }
                return try await call.done("/projects/\(urlPart(pid))/pam", "Session revoked: its console link and credentials stop working.")
            }
        }
    }

    static func formId(_ target: ConsoleForm.Target) -> String {
        switch target {
        case .pamResource(let t): "resource-\(t)"
        case .pamAccount(let t): "account-\(t)"
        default: "form"
        }
    }

    func overview(_ call: ConsoleCall, projectId: String, state: FormState?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let project = try await SecretOverviewPages.project(call, projectId)
        let q = "projectId=\(urlPart(projectId))"
        let resources = try await call.read("/api/v1/pam/resources?\(q)")["resources"]?.array ?? []
        let accounts = try await call.read("/api/v1/pam/accounts?\(q)")["accounts"]?.array ?? []
        let sessions = try await call.read("/api/v1/pam/sessions?\(q)")["sessions"]?.array ?? []
        let requests = try await call.read("/api/v1/pam/access-requests?\(q)")["accessRequests"]?.array ?? []
        let resourceNames = Dictionary(resources.map { ($0["id"]?.string ?? "", $0["name"]?.string ?? "") }, uniquingKeysWith: { a, _ in a })
        var resourceForms: [[String: Any]] = []
        var accountForms: [[String: Any]] = []
        for form in app.providers.consoleForms {
            let id = Self.formId(form.target)
            let message: Any = state?.formId == id ? flag(state?.message) : false
            switch form.target {
            case .pamResource(let type):
                resourceForms.append(["type": type, "title": form.title, "summary": form.summary, "formId": id, "formMessage": message, "open": state?.formId == id,
                                      "fields": FormCodec.views(Self.resourceCommon + form.fields, formId: id, state: state)])
            case .pamAccount(let type):
                let options = resources.filter { $0["resourceType"]?.string == type }
                    .map { ["id": $0["id"]?.string ?? "", "name": $0["name"]?.string ?? "", "selected": state?.values["resourceId"] == $0["id"]?.string] as [String: Any] }
                accountForms.append(["type": type, "title": form.title, "summary": form.summary, "formId": id, "formMessage": message, "open": state?.formId == id,
                                     "resources": options, "noResources": options.isEmpty,
                                     "fields": FormCodec.views(Self.accountCommon + form.fields, formId: id, state: state)])
            default: break
            }
        }
        let now = Date()
        return try await call.page("pam", title: "\(project["name"]?.string ?? "Project") · PAM", section: "pam", [
            "project": ["id": projectId, "name": project["name"]?.string ?? ""],
            "resources": resources.map { r -> [String: Any] in
                ["name": r["name"]?.string ?? "", "type": r["resourceType"]?.string ?? "",
                 "details": (r["connectionDetails"]?.object ?? [:]).sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value.string ?? ""] }]
            },
            "noResources": resources.isEmpty,
            "accounts": accounts.map { a -> [String: Any] in
                let duration = a["defaultSessionDuration"].flatMap { if case .number(let n) = $0 { Int(n) } else { nil } } ?? 0
                return ["id": a["id"]?.string ?? "", "name": a["name"]?.string ?? "", "description": a["description"]?.string ?? "",
                        "resource": resourceNames[a["resourceId"]?.string ?? ""] ?? "", "duration": DurationText.text(seconds: duration),
                        "target": a["targetRoleArn"]?.string ?? "", "approval": a["accessPolicy"]?["requiresApproval"] == .bool(true)]
            },
            "noAccounts": accounts.isEmpty,
            "accessMessage": flag(state?.formId == "access" ? state?.message : nil),
            "sessions": sessions.map { s -> [String: Any] in
                let expires = s["expiresAt"]?.string ?? ""
                let left = ISO8601Format.parse(expires).map { Int($0.timeIntervalSince(now)) } ?? 0
                let status = s["status"]?.string ?? ""
                return ["id": s["id"]?.string ?? "", "user": s["userEmail"]?.string ?? "", "status": status, "method": s["accessMethod"]?.string ?? "",
                        "expiresAt": expires, "left": left > 0 ? "in \(DurationText.text(seconds: left))" : "ended", "active": status == "active"]
            },
            "noSessions": sessions.isEmpty,
            "requests": requests.map { r -> [String: Any] in
                let account = accounts.first { $0["id"]?.string == r["accountId"]?.string }?["name"]?.string ?? ""
                let duration = r["duration"].flatMap { if case .number(let n) = $0 { Int(n) } else { nil } } ?? 0
                let reviews = (r["reviews"]?.array ?? []).map { "\($0["reviewer"]?["email"]?.string ?? ""): \($0["decision"]?.string ?? "")" }
                return ["id": r["id"]?.string ?? "", "requester": r["requester"]?["email"]?.string ?? "", "account": account,
                        "status": r["status"]?.string ?? "", "duration": DurationText.text(seconds: duration), "reason": r["reason"]?.string ?? "",
                        "reviews": flag(reviews.joined(separator: ", ")), "pending": r["status"]?.string == "pending",
                        "mine": r["requester"]?["email"]?.string == call.session.email, "grantEnds": flag(r["grantExpiresAt"]?.string)]
            },
            "noRequests": requests.isEmpty,
            "requestsMessage": flag(state?.formId == "requests" ? state?.message : nil),
            "sessionsMessage": flag(state?.formId == "sessions" ? state?.message : nil),
            "resourceForms": resourceForms, "accountForms": accountForms,
        ], status: status)
    }

    func create(_ call: ConsoleCall, _ form: FormBody, projectId: String, target: ConsoleForm.Target) async throws -> Response {
        guard let provider = app.providers.consoleForm(target) else { throw ConsolePageFailure(status: .notFound, message: "no such PAM provider") }
        let id = Self.formId(target)
        let common = { if case .pamResource = target { Self.resourceCommon } else { Self.accountCommon } }()
        var body: [String: JSONValue]
        let own: [String: JSONValue]
        do {
            body = try FormCodec.json(common, form)
            own = try FormCodec.json(provider.fields, form)
        } catch let e as FormCodec.Invalid {
            return try await overview(call, projectId: projectId, state: FormState(formId: id, values: form.values, errors: e.errors), status: .badRequest)
        }
        let path: String
        switch target {
        case .pamResource(let type):
            body["projectId"] = .string(projectId)
            body["connectionDetails"] = .object(own)
            path = "/api/v1/pam/resources/\(urlPart(type))"
        case .pamAccount(let type):
            body["resourceId"] = .string(form.text("resourceId") ?? "")
            body["credentials"] = .object(own)
            path = "/api/v1/pam/accounts/\(urlPart(type))"
        default:
            throw ConsolePageFailure(status: .notFound, message: "no such PAM provider")
        }
        let answer = try await call.api(.post, path, body)
        guard answer.ok else {
            let state = FormState(formId: id, values: form.values).failed(common + provider.fields, answer.message)
            return try await overview(call, projectId: projectId, state: state, status: answer.status)
        }
        let notice: String
        if case .pamResource = target {
            notice = "Resource created: kms assumed its role, so the connection works."
        } else {
            let warnings = (answer.body["account"]?["warnings"]?.array ?? []).compactMap(\.string)
            notice = "Account created." + (warnings.isEmpty ? "" : " Warning: " + warnings.joined(separator: " "))
        }
        return try await call.done("/projects/\(urlPart(projectId))/pam", notice)
    }

    func access(_ call: ConsoleCall, _ form: FormBody, projectId: String) async throws -> Response {
        let method = form.text("method") ?? "web"
        var body: [String: JSONValue] = ["projectId": .string(projectId), "accountId": .string(form.text("accountId") ?? ""), "accessMethod": .string(method)]
        if let reason = form.text("reason") { body["reason"] = .string(reason) }
        let answer = try await call.api(.post, "/api/v1/pam/accounts/access", body)
        guard answer.ok else {
            return try await overview(call, projectId: projectId, state: FormState(formId: "access", values: form.values, message: answer.message), status: answer.status)
        }
        let expires = answer.body["metadata"]?["expiresAt"]?.string ?? ""
        if let url = answer.body["consoleUrl"]?.string, let scheme = URL(string: url)?.scheme?.lowercased(), scheme == "https" || scheme == "http" {
            return try await call.page("pam-open", title: "Opening the AWS console", section: "pam", [
                "url": url, "expiresAt": expires, "account": answer.body["account"]?["name"]?.string ?? "", "back": "/projects/\(urlPart(projectId))/pam"])
        }
        let type = answer.body["resourceType"]?.string ?? ""
        let exports = app.providers.consoleForm(.pamAccount(type: type))?.exports ?? [:]
        let data = (answer.body["credentials"]?.object ?? [:]).sorted { $0.key < $1.key }.compactMap { k, v in v.string.map { (k, $0) } }
        return try await call.page("reveal", title: "CLI credentials", section: "pam", [
            "heading": "CLI credentials for \(answer.body["account"]?["name"]?.string ?? "the account")",
            "intro": "They work until \(expires) or until the session is revoked. They are shown only once.",
            "secrets": data.enumerated().map { n, kv in ["label": kv.0, "id": "secret-\(n)", "value": kv.1] },
            "export": flag(DynamicSecretPages.exportBlock(data, exports)), "back": "/projects/\(urlPart(projectId))/pam"])
    }
}
