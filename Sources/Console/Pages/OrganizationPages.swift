import Core
import Foundation
import Hummingbird

/// The organization: its projects (create one) and its people (add one, see roles).
struct OrganizationPages: Sendable {
    let app: ConsoleApp
    let routes: ConsoleRoutes

    static let projectFields = [ConsoleField("projectName", "Project name", required: true, placeholder: "Payments"),
                                ConsoleField("slug", "Slug", help: "Lower-case letters, digits and dashes; made from the name when empty.")]
    static let memberFields = [ConsoleField("email", "E-mail", required: true),
                               ConsoleField("role", "Organization role", .select(["member", "admin", "no-access"]), required: true),
                               ConsoleField("password", "Password", .secret,
                                            help: "Instance admins may set one to create the account directly; otherwise an invitation is made.")]

    func register(_ group: RouterGroup<KMSRequestContext>) {
        group.get("/projects") { request, context in try await routes.page(request, context) { try await projects($0, state: nil) } }
        group.post("/projects") { request, context in
            try await routes.action(request, context) { call, form in
                let state = FormState(formId: "project", values: form.values)
                guard let body = try? FormCodec.json(Self.projectFields, form) else {
                    return try await projects(call, state: state.failed(Self.projectFields, "Project name is required"))
                }
                let answer = try await call.api(.post, "/api/v1/projects", body.merging(["organizationId": .string(call.session.orgId)]) { a, _ in a })
                guard answer.ok, let id = answer.body["project"]?["id"]?.string else {
                    return try await projects(call, state: state.failed(Self.projectFields, answer.message), status: answer.status)
                }
                return try await call.done("/projects/\(urlPart(id))", "Project created.")
            }
        }
        group.get("/members") { request, context in try await routes.page(request, context) { try await members($0, state: nil) } }
        group.post("/members") { request, context in
            try await routes.action(request, context) { call, form in
                let state = FormState(formId: "member", values: form.values)
                let body: [String: JSONValue]
                do { body = try FormCodec.json(Self.memberFields, form) } catch let e as FormCodec.Invalid {
                    return try await members(call, state: FormState(formId: "member", values: form.values, errors: e.errors))
                }
                let answer = try await call.api(.post, "/api/v1/organizations/\(urlPart(call.session.orgId))/users", body)
                guard answer.ok else { return try await members(call, state: state.failed(Self.memberFields, answer.message), status: answer.status) }
                if let invite = answer.body["inviteToken"]?.string {
                    return try await call.page("reveal", title: "Invitation made", section: "members", [
                        "heading": "Invitation for \(form.text("email") ?? "")",
                        "intro": "Send this invitation token to the person; they accept it with their own password (kms accept-invite, or the API). It is shown only now.",
                        "secrets": [["label": "Invitation token", "id": "secret-invite", "value": invite]], "back": "/members"])
                }
                return try await call.done("/members", "Added \(form.text("email") ?? "the person").")
            }
        }
    }

    func projects(_ call: ConsoleCall, state: FormState?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let list = try await call.read("/api/v1/projects?organizationId=\(urlPart(call.session.orgId))")
        let rows: [[String: Any]] = (list["projects"]?.array ?? []).map { p in
            ["id": p["id"]?.string ?? "", "name": p["name"]?.string ?? "", "slug": p["slug"]?.string ?? "",
             "environments": (p["environments"]?.array ?? []).compactMap { $0["slug"]?.string }.joined(separator: ", ")]
        }
        return try await call.page("projects", title: "Projects", section: "projects", [
            "projects": rows, "empty": rows.isEmpty, "formMessage": flag(state?.message),
            "fields": FormCodec.views(Self.projectFields, formId: "project", state: state)], status: status)
    }

    func members(_ call: ConsoleCall, state: FormState?, status: HTTPResponse.Status = .ok) async throws -> Response {
        // Only org admins may list people; nobody else's page view should write a refusal to the audit log.
        guard call.session.orgRole == "admin" else { throw ConsolePageFailure(status: .forbidden, message: "Only organization admins see the members list.") }
        let answer = try await call.api(.get, "/api/v1/organizations/\(urlPart(call.session.orgId))/users")
        var data: [String: Any] = ["formMessage": flag(state?.message), "fields": FormCodec.views(Self.memberFields, formId: "member", state: state)]
        if answer.ok {
            data["members"] = (answer.body["users"]?.array ?? []).map { ["email": $0["email"]?.string ?? "", "role": $0["role"]?.string ?? ""] }
            data["hasMembers"] = !(answer.body["users"]?.array ?? []).isEmpty
        } else {
            data["listError"] = answer.message
        }
        return try await call.page("members", title: "Members", section: "members", data, status: status)
    }
}
