import Core
import Foundation
import Hummingbird

/// Machine identities and their login methods. Each installed method's form comes from its
/// plugin (``ConsoleForm``); the access-token settings every method shares are Core's.
struct IdentityPages: Sendable {
    let app: ConsoleApp
    let routes: ConsoleRoutes

    static let createFields = [ConsoleField("name", "Name", required: true, placeholder: "payments-worker"),
                               ConsoleField("role", "Organization role", .select(["member", "admin", "no-access"]), required: true)]
    static let membershipFields = [ConsoleField("role", "Project role", .select(["viewer", "member", "admin", "no-access"]), required: true)]
    /// The settings Core keeps for every login method.
    static let tokenFields = [
        ConsoleField("accessTokenTTL", "Access token TTL (seconds)", .number, defaultValue: "2592000"),
        ConsoleField("accessTokenMaxTTL", "Access token max TTL (seconds)", .number, defaultValue: "2592000"),
        ConsoleField("accessTokenNumUsesLimit", "Uses per token (0 = unlimited)", .number, defaultValue: "0"),
        ConsoleField("accessTokenTrustedIps", "Trusted IPs (one address or CIDR per line)", .ipList, defaultValue: "0.0.0.0/0\n::/0"),
    ]

    func register(_ group: RouterGroup<KMSRequestContext>) {
        group.get("/identities") { request, context in try await routes.page(request, context) { try await list($0, state: nil) } }
        group.post("/identities") { request, context in
            try await routes.action(request, context) { call, form in
                let state = FormState(formId: "identity", values: form.values)
                guard var body = try? FormCodec.json(Self.createFields, form) else {
                    return try await list(call, state: state.failed(Self.createFields, "Name is required"))
                }
                body["organizationId"] = .string(call.session.orgId)
                let answer = try await call.api(.post, "/api/v1/identities", body)
                guard answer.ok, let id = answer.body["identity"]?["id"]?.string else {
                    return try await list(call, state: state.failed(Self.createFields, answer.message), status: answer.status)
                }
                return try await call.done("/identities/\(urlPart(id))", "Identity created. Attach a login method below.")
            }
        }
        group.get("/identities/{id}") { request, context in
            try await routes.page(request, context) { try await detail($0, id: try context.parameter("id"), state: nil) }
        }
        group.post("/identities/{id}/delete") { request, context in
            try await routes.action(request, context) { call, _ in
                let answer = try await call.api(.delete, "/api/v1/identities/\(urlPart(try context.parameter("id")))")
                guard answer.ok else { throw ConsolePageFailure(status: answer.status, message: answer.message) }
                return try await call.done("/identities", "Identity deleted; its tokens are revoked.")
            }
        }
        group.post("/identities/{id}/projects") { request, context in
            try await routes.action(request, context) { call, form in
                let id = try context.parameter("id")
                let project = form.text("projectId") ?? ""
                let answer = try await call.api(.post, "/api/v1/projects/\(urlPart(project))/identity-memberships/\(urlPart(id))",
                                                ["role": .string(form.text("role") ?? "")])
                guard answer.ok else {
                    return try await detail(call, id: id, state: FormState(formId: "membership", values: form.values, message: answer.message), status: answer.status)
                }
                return try await call.done("/identities/\(urlPart(id))", "Project role set.")
            }
        }
        group.post("/identities/{id}/auth/{method}") { request, context in
            try await routes.action(request, context) { call, form in try await saveMethod(call, form, id: try context.parameter("id"), method: try context.parameter("method")) }
        }
        group.post("/identities/{id}/auth/{method}/revoke") { request, context in
            try await routes.action(request, context) { call, _ in
                let id = try context.parameter("id"), method = try context.parameter("method")
                guard let form = app.providers.consoleForm(.identityAuth(method: method)) else { throw ConsolePageFailure(status: .notFound, message: "no such login method") }
                let answer = try await call.api(.delete, "/api/v1/auth/\(urlPart(method))/identities/\(urlPart(id))")
                guard answer.ok else { throw ConsolePageFailure(status: answer.status, message: answer.message) }
                return try await call.done("/identities/\(urlPart(id))", "\(form.title) revoked, with every token it issued.")
            }
        }
        group.post("/identities/{id}/auth/{method}/actions/{n}") { request, context in
            try await routes.action(request, context) { call, form in
                try await runAction(call, form, id: try context.parameter("id"), method: try context.parameter("method"), index: Int(try context.parameter("n")) ?? -1)
            }
        }
        group.post("/identities/{id}/auth/{method}/actions/{n}/revoke/{item}") { request, context in
            try await routes.action(request, context) { call, _ in
                let id = try context.parameter("id"), method = try context.parameter("method")
                guard let (_, action) = self.action(method, Int(try context.parameter("n")) ?? -1), let revoke = action.list?.revokePath else {
                    throw ConsolePageFailure(status: .notFound, message: "no such action")
                }
                let path = revoke.replacingOccurrences(of: "{identityId}", with: urlPart(id)).replacingOccurrences(of: "{id}", with: urlPart(try context.parameter("item")))
                let answer = try await call.api(.post, path, [:])
                guard answer.ok else { throw ConsolePageFailure(status: answer.status, message: answer.message) }
                return try await call.done("/identities/\(urlPart(id))", "Revoked.")
            }
        }
    }

    func action(_ method: String, _ index: Int) -> (ConsoleForm, ConsoleCredentialAction)? {
        guard let form = app.providers.consoleForm(.identityAuth(method: method)), form.actions.indices.contains(index) else { return nil }
        return (form, form.actions[index])
    }

    var methodForms: [ConsoleForm] {
        app.providers.consoleForms.filter { if case .identityAuth = $0.target { true } else { false } }
    }

    static func method(of form: ConsoleForm) -> String { if case .identityAuth(let m) = form.target { m } else { "" } }

    func list(_ call: ConsoleCall, state: FormState?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let list = try await call.read("/api/v1/identities?orgId=\(urlPart(call.session.orgId))")
        let rows: [[String: Any]] = (list["identities"]?.array ?? []).map { i in
            ["id": i["id"]?.string ?? "", "name": i["name"]?.string ?? "", "role": i["role"]?.string ?? "",
             "methods": (i["authMethods"]?.array ?? []).compactMap(\.string).joined(separator: ", ")]
        }
        return try await call.page("identities", title: "Machine identities", section: "identities", [
            "identities": rows, "empty": rows.isEmpty, "formMessage": flag(state?.message),
            "fields": FormCodec.views(Self.createFields, formId: "identity", state: state)], status: status)
    }

    func detail(_ call: ConsoleCall, id: String, state: FormState?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try await call.read("/api/v1/identities/\(urlPart(id))")["identity"] ?? .null
        let attached = Set((identity["authMethods"]?.array ?? []).compactMap(\.string))
        var methods: [[String: Any]] = []
        for form in methodForms {
            let method = Self.method(of: form)
            let formId = "auth-" + method
            let fields = form.fields + Self.tokenFields
            var view: [String: Any] = ["method": method, "title": form.title, "summary": form.summary, "formId": formId,
                                       "attached": attached.contains(method), "hasFacts": false, "formMessage": false, "actions": [Any](), "canManage": false]
            var values: [String: String] = [:]
            // A login method's settings and credentials are for org admins (the API's rule); others see which are attached.
            view["canManage"] = call.session.orgRole == "admin"
            if attached.contains(method), call.session.orgRole == "admin" {
                let config = try await call.read("/api/v1/auth/\(urlPart(method))/identities/\(urlPart(id))").object?.values.first ?? .null
                values = FormCodec.flatten(config.object ?? [:], fields: fields)
                view["facts"] = (config.object ?? [:]).filter { if case .string = $0.value { true } else { false } }
                    .filter { ["id", "clientId", "identityId", "createdAt", "updatedAt"].contains($0.key) }
                    .sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value.string ?? ""] }
                view["hasFacts"] = !((view["facts"] as? [Any])?.isEmpty ?? true)
                var actions: [[String: Any]] = []
                for (n, action) in form.actions.enumerated() {
                    var a: [String: Any] = ["n": n, "title": action.title, "formId": "\(formId)-action-\(n)", "hasItems": false, "items": [Any](),
                                            "fields": FormCodec.views(action.fields, formId: "\(formId)-action-\(n)", state: state)]
                    if let listing = action.list {
                        let path = listing.path.replacingOccurrences(of: "{identityId}", with: urlPart(id))
                        let items = try await call.read(path)[listing.key]?.array ?? []
                        a["columns"] = listing.columns.map { ["label": $0.label] }
                        a["hasItems"] = !items.isEmpty
                        a["items"] = items.map { item -> [String: Any] in
                            let flat = FormCodec.flatten(item.object ?? [:], fields: listing.columns.map { ConsoleField($0.key, $0.label) })
                            return ["id": item["id"]?.string ?? "", "cells": listing.columns.map { ["value": flat[$0.key] ?? ""] },
                                    "revocable": listing.revokePath != nil]
                        }
                    }
                    actions.append(a)
                }
                view["actions"] = actions
            }
            view["fields"] = FormCodec.views(fields, formId: formId, values: values, state: state)
            if state?.formId == formId, let message = state?.message { view["formMessage"] = message }
            methods.append(view)
        }
        let projects = try await call.read("/api/v1/projects?organizationId=\(urlPart(call.session.orgId))")["projects"]?.array ?? []
        return try await call.page("identity", title: "Identity \(identity["name"]?.string ?? "")", section: "identities", [
            "identity": ["id": identity["id"]?.string ?? "", "name": identity["name"]?.string ?? "", "role": identity["role"]?.string ?? "",
                         "instanceAdmin": identity["isInstanceAdmin"] == .bool(true)],
            "methods": methods,
            "projects": projects.map { ["id": $0["id"]?.string ?? "", "name": $0["name"]?.string ?? ""] },
            "membership": ["fields": FormCodec.views(Self.membershipFields, formId: "membership", state: state)],
            "membershipMessage": flag(state?.formId == "membership" ? state?.message : nil),
        ], status: status)
    }

    func saveMethod(_ call: ConsoleCall, _ form: FormBody, id: String, method: String) async throws -> Response {
        guard let config = app.providers.consoleForm(.identityAuth(method: method)) else { throw ConsolePageFailure(status: .notFound, message: "no such login method") }
        let fields = config.fields + Self.tokenFields
        let formId = "auth-" + method
        let body: [String: JSONValue]
        do { body = try FormCodec.json(fields, form) } catch let e as FormCodec.Invalid {
            return try await detail(call, id: id, state: FormState(formId: formId, values: form.values, errors: e.errors), status: .badRequest)
        }
        let update = form["mode"] == "update"
        let answer = try await call.api(update ? .patch : .post, "/api/v1/auth/\(urlPart(method))/identities/\(urlPart(id))", body)
        guard answer.ok else {
            let state = FormState(formId: formId, values: form.values).failed(fields, answer.message)
            return try await detail(call, id: id, state: state, status: answer.status)
        }
        return try await call.done("/identities/\(urlPart(id))", "\(config.title) \(update ? "updated" : "attached").")
    }

    func runAction(_ call: ConsoleCall, _ form: FormBody, id: String, method: String, index: Int) async throws -> Response {
        guard let (config, action) = self.action(method, index) else { throw ConsolePageFailure(status: .notFound, message: "no such action") }
        let formId = "auth-\(method)-action-\(index)"
        let body: [String: JSONValue]
        do { body = try FormCodec.json(action.fields, form) } catch let e as FormCodec.Invalid {
            return try await detail(call, id: id, state: FormState(formId: formId, values: form.values, errors: e.errors), status: .badRequest)
        }
        let answer = try await call.api(.post, action.path.replacingOccurrences(of: "{identityId}", with: urlPart(id)), body)
        guard answer.ok else {
            let state = FormState(formId: formId, values: form.values).failed(action.fields, answer.message)
            return try await detail(call, id: id, state: state, status: answer.status)
        }
        let secrets: [[String: Any]] = action.reveal.enumerated().compactMap { n, key in
            answer.body[key]?.string.map { ["label": key, "id": "secret-\(n)", "value": $0] }
        }
        return try await call.page("reveal", title: action.title, section: "identities", [
            "heading": "\(config.title): \(action.title.lowercased())",
            "intro": "Copy it now: it is shown only this once and kms keeps only a hash of it.",
            "secrets": secrets, "back": "/identities/\(urlPart(id))"])
    }
}
