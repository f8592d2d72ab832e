import Core
import Foundation
import Hummingbird

/// A project's Secret Overview: its environments as columns, the dynamic secrets of each, and
/// who may work in the project.
struct SecretOverviewPages: Sendable {
    let app: ConsoleApp
    let routes: ConsoleRoutes

    static let userFields = [ConsoleField("email", "Person's e-mail", required: true),
                             ConsoleField("role", "Project role", .select(["viewer", "member", "admin", "no-access"]), required: true)]

    func register(_ group: RouterGroup<KMSRequestContext>) {
        group.get("/projects/{pid}") { request, context in
            try await routes.page(request, context) { try await overview($0, projectId: try context.parameter("pid"), state: nil) }
        }
        group.post("/projects/{pid}/members") { request, context in
            try await routes.action(request, context) { call, form in
                let pid = try context.parameter("pid")
                let body: [String: JSONValue]
                do { body = try FormCodec.json(Self.userFields, form) } catch let e as FormCodec.Invalid {
                    return try await overview(call, projectId: pid, state: FormState(formId: "project-member", values: form.values, errors: e.errors), status: .badRequest)
                }
                let answer = try await call.api(.post, "/api/v1/projects/\(urlPart(pid))/memberships", body)
                guard answer.ok else {
                    let state = FormState(formId: "project-member", values: form.values).failed(Self.userFields, answer.message)
                    return try await overview(call, projectId: pid, state: state, status: answer.status)
                }
                return try await call.done("/projects/\(urlPart(pid))", "Project role set for \(form.text("email") ?? "").")
            }
        }
    }

    /// The project of the path as the API shows it.
    static func project(_ call: ConsoleCall, _ id: String) async throws -> JSONValue {
        let project = try await call.read("/api/v1/projects/\(urlPart(id))")["project"] ?? .null
        // The dynamic-secret routes find projects by slug in the session's organization: a project
        // of another organization (an instance admin may read one) must not lend its name to them.
        guard project["orgId"]?.string == call.session.orgId else { throw ConsolePageFailure(status: .notFound, message: "project not found") }
        return project
    }

    var dynamicForms: [ConsoleForm] { app.providers.consoleForms.filter { if case .dynamicSecret = $0.target { true } else { false } } }

    func overview(_ call: ConsoleCall, projectId: String, state: FormState?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let project = try await Self.project(call, projectId)
        let slug = project["slug"]?.string ?? ""
        var columns: [[String: Any]] = []
        for env in project["environments"]?.array ?? [] {
            let envSlug = env["slug"]?.string ?? ""
            let list = try await call.read("/api/v1/dynamic-secrets?projectSlug=\(urlPart(slug))&environmentSlug=\(urlPart(envSlug))&path=%2F")
            let secrets: [[String: Any]] = (list["dynamicSecrets"]?.array ?? []).map { s in
                ["name": s["name"]?.string ?? "", "type": s["type"]?.string ?? "",
                 "defaultTTL": DurationText.text(s["defaultTTL"]), "maxTTL": DurationText.text(s["maxTTL"]),
                 "href": "/projects/\(urlPart(projectId))/dynamic-secrets/\(urlPart(envSlug))/\(urlPart(s["name"]?.string ?? ""))"]
            }
            columns.append(["name": env["name"]?.string ?? envSlug, "slug": envSlug, "secrets": secrets, "empty": secrets.isEmpty,
                            "add": dynamicForms.map { f -> [String: Any] in
                                let type: String = if case .dynamicSecret(let t) = f.target { t } else { "" }
                                return ["title": f.title, "href": "/projects/\(urlPart(projectId))/dynamic-secrets/new?env=\(urlPart(envSlug))&type=\(urlPart(type))"]
                            }])
        }
        return try await call.page("overview", title: "\(project["name"]?.string ?? "Project") · Secret Overview", section: "projects", [
            "project": ["id": projectId, "name": project["name"]?.string ?? "", "slug": slug],
            "environments": columns,
            "members": ["fields": FormCodec.views(Self.userFields, formId: "project-member", state: state)],
            "memberMessage": flag(state?.formId == "project-member" ? state?.message : nil),
        ], status: status)
    }
}

/// Durations as people read them.
enum DurationText {
    static func text(_ value: JSONValue?) -> String {
        guard case .number(let n)? = value else { return value?.string ?? "" }
        return text(seconds: Int(n))
    }

    static func text(seconds: Int) -> String {
        if seconds % 86400 == 0 && seconds > 0 { return "\(seconds / 86400)d" }
        if seconds % 3600 == 0 && seconds > 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 && seconds > 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
