import Core
import Foundation
import Hummingbird

/// A dynamic secret: adding one (its provider's form), Generate (credentials shown once), and its
/// leases with Renew, Revoke and forced revoke.
struct DynamicSecretPages: Sendable {
    let app: ConsoleApp
    let routes: ConsoleRoutes

    /// What Core keeps of every dynamic secret; the provider's fields go under `provider.inputs`.
    static let commonFields = [
        ConsoleField("name", "Name", required: true, help: "Lower-case letters, digits and dashes.", placeholder: "s3-reader"),
        ConsoleField("path", "Secret path", defaultValue: "/"),
        ConsoleField("defaultTTL", "Default TTL", help: "Seconds, or a duration such as 15m, 1h, 2d.", defaultValue: "1h"),
        ConsoleField("maxTTL", "Max TTL", defaultValue: "24h"),
    ]
    static let ttlField = [ConsoleField("ttl", "TTL", help: "Empty: the secret's default. Seconds or a duration such as 15m, 1h.", placeholder: "1h")]

    func register(_ group: RouterGroup<KMSRequestContext>) {
        group.get("/projects/{pid}/dynamic-secrets/new") { request, context in
            try await routes.page(request, context) { call in
                try await newForm(call, projectId: try context.parameter("pid"), env: request.uri.queryParameters.get("env") ?? "",
                                  type: request.uri.queryParameters.get("type") ?? "", state: nil)
            }
        }
        group.post("/projects/{pid}/dynamic-secrets/new") { request, context in
            try await routes.action(request, context) { call, form in try await create(call, form, projectId: try context.parameter("pid")) }
        }
        group.get("/projects/{pid}/dynamic-secrets/{env}/{name}") { request, context in
            try await routes.page(request, context) { call in try await detail(call, try scope(context, request), state: nil) }
        }
        group.post("/projects/{pid}/dynamic-secrets/{env}/{name}/generate") { request, context in
            try await routes.action(request, context) { call, form in try await generate(call, try scope(context, request), form) }
        }
        group.post("/projects/{pid}/dynamic-secrets/{env}/{name}/leases/{lease}/renew") { request, context in
            try await routes.action(request, context) { call, form in
                let scope = try scope(context, request)
                var body = try await scope.body(call)
                if let ttl = form.text("ttl") { body["ttl"] = .string(ttl) }
                let answer = try await call.api(.post, "/api/v1/dynamic-secrets/leases/\(urlPart(try context.parameter("lease")))/renew", body)
                guard answer.ok else { return try await detail(call, scope, state: FormState(formId: "lease", values: [:], message: answer.message), status: answer.status) }
                let until = answer.body["lease"]?["expireAt"]?.string ?? ""
                return try await call.done(scope.href, "Lease renewed until \(until).")
            }
        }
        group.post("/projects/{pid}/dynamic-secrets/{env}/{name}/leases/{lease}/revoke") { request, context in
            try await routes.action(request, context) { call, form in
                let scope = try scope(context, request)
                var body = try await scope.body(call)
                let forced = form["force"] != nil
                if forced { body["isForced"] = .bool(true) }
                let answer = try await call.api(.delete, "/api/v1/dynamic-secrets/leases/\(urlPart(try context.parameter("lease")))", body)
                guard answer.ok else { return try await detail(call, scope, state: FormState(formId: "lease", values: [:], message: answer.message), status: answer.status) }
                return try await call.done(scope.href, forced ? "Lease removed (forced: the cloud entity may remain)." : "Lease revoked; its credentials no longer work.")
            }
        }
    }

    /// The dynamic secret a path names.
    struct Scope: Sendable {
        let projectId: String
        let env: String
        let name: String
        let path: String
        var href: String { "/projects/\(urlPart(projectId))/dynamic-secrets/\(urlPart(env))/\(urlPart(name))" + (path == "/" ? "" : "?path=\(urlPart(path))") }

        /// The project, environment and path members every dynamic-secret call takes.
        func body(_ call: ConsoleCall) async throws -> [String: JSONValue] {
            let project = try await SecretOverviewPages.project(call, projectId)
            return ["projectSlug": project["slug"] ?? .null, "environmentSlug": .string(env), "path": .string(path)]
        }

        func query(_ call: ConsoleCall) async throws -> String {
            let project = try await SecretOverviewPages.project(call, projectId)
            return "projectSlug=\(urlPart(project["slug"]?.string ?? ""))&environmentSlug=\(urlPart(env))&path=\(urlPart(path))"
        }
    }

    func scope(_ context: KMSRequestContext, _ request: Request) throws -> Scope {
        Scope(projectId: try context.parameter("pid"), env: try context.parameter("env"), name: try context.parameter("name"),
              path: request.uri.queryParameters.get("path") ?? "/")
    }

    func newForm(_ call: ConsoleCall, projectId: String, env: String, type: String, state: FormState?, status: HTTPResponse.Status = .ok) async throws -> Response {
        guard let form = app.providers.consoleForm(.dynamicSecret(type: type)) else {
            throw ConsolePageFailure(status: .notFound, message: "no dynamic-secret provider named \(type) is installed")
        }
        let project = try await SecretOverviewPages.project(call, projectId)
        return try await call.page("dynamic-new", title: "Add dynamic secret · \(form.title)", section: "projects", [
            "project": ["id": projectId, "name": project["name"]?.string ?? ""], "env": env, "type": type, "providerTitle": form.title,
            "summary": form.summary, "formMessage": flag(state?.message),
            "common": ["fields": FormCodec.views(Self.commonFields, formId: "ds", state: state)],
            "provider": ["fields": FormCodec.views(form.fields, formId: "ds", state: state)],
        ], status: status)
    }

    func create(_ call: ConsoleCall, _ form: FormBody, projectId: String) async throws -> Response {
        let env = form.text("env") ?? "", type = form.text("type") ?? ""
        guard let provider = app.providers.consoleForm(.dynamicSecret(type: type)) else { throw ConsolePageFailure(status: .notFound, message: "no such provider") }
        let state = FormState(formId: "ds", values: form.values)
        var body: [String: JSONValue]
        let inputs: [String: JSONValue]
        do {
            body = try FormCodec.json(Self.commonFields, form)
            inputs = try FormCodec.json(provider.fields, form)
        } catch let e as FormCodec.Invalid {
            var s = state
            s.errors = e.errors
            return try await newForm(call, projectId: projectId, env: env, type: type, state: s, status: .badRequest)
        }
        let project = try await SecretOverviewPages.project(call, projectId)
        body["projectSlug"] = project["slug"] ?? .null
        body["environmentSlug"] = .string(env)
        body["provider"] = .object(["type": .string(type), "inputs": .object(inputs)])
        let answer = try await call.api(.post, "/api/v1/dynamic-secrets", body)
        guard answer.ok else {
            let failed = state.failed(Self.commonFields + provider.fields, answer.message)
            return try await newForm(call, projectId: projectId, env: env, type: type, state: failed, status: answer.status)
        }
        let name = answer.body["dynamicSecret"]?["name"]?.string ?? ""
        let path = form.text("path") ?? "/"
        return try await call.done(Scope(projectId: projectId, env: env, name: name, path: path).href, "Dynamic secret \(name) created.")
    }

    func detail(_ call: ConsoleCall, _ scope: Scope, state: FormState?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let query = try await scope.query(call)
        let secret = try await call.read("/api/v1/dynamic-secrets/\(urlPart(scope.name))?\(query)")["dynamicSecret"] ?? .null
        let leases = try await call.read("/api/v1/dynamic-secrets/\(urlPart(scope.name))/leases?\(query)")["leases"]?.array ?? []
        let now = Date()
        let rows: [[String: Any]] = leases.map { lease in
            let expires = lease["expireAt"]?.string ?? ""
            let left = ISO8601Format.parse(expires).map { Int($0.timeIntervalSince(now)) } ?? 0
            let status = lease["status"]?.string ?? "active"
            return ["id": lease["id"]?.string ?? "", "entity": lease["externalEntityId"]?.string ?? "", "status": status,
                    "expireAt": expires, "left": left > 0 ? "in \(DurationText.text(seconds: left))" : "due now",
                    "live": status == "active" || status == "revocation_failed", "details": flag(lease["statusDetails"]?.string)]
        }
        let project = try await SecretOverviewPages.project(call, scope.projectId)
        return try await call.page("dynamic", title: "\(scope.name) · dynamic secret", section: "projects", [
            "project": ["id": scope.projectId, "name": project["name"]?.string ?? ""], "env": scope.env, "name": scope.name,
            "type": secret["type"]?.string ?? "", "defaultTTL": DurationText.text(secret["defaultTTL"]), "maxTTL": DurationText.text(secret["maxTTL"]),
            "base": scope.href.split(separator: "?").first.map(String.init) ?? scope.href,
            "pathQuery": scope.path == "/" ? "" : "?path=\(urlPart(scope.path))",
            "leases": rows, "noLeases": rows.isEmpty, "leaseMessage": flag(state?.formId == "lease" ? state?.message : nil),
            "generateMessage": flag(state?.formId == "generate" ? state?.message : nil),
            "ttl": ["fields": FormCodec.views(Self.ttlField, formId: "generate", state: state)],
        ], status: status)
    }

    func generate(_ call: ConsoleCall, _ scope: Scope, _ form: FormBody) async throws -> Response {
        var body = try await scope.body(call)
        body["dynamicSecretName"] = .string(scope.name)
        if let ttl = form.text("ttl") { body["ttl"] = .string(ttl) }
        let answer = try await call.api(.post, "/api/v1/dynamic-secrets/leases", body)
        guard answer.ok else {
            var state = FormState(formId: "generate", values: form.values)
            if FormCodec.field(for: answer.message, in: Self.ttlField) != nil { state.errors["ttl"] = answer.message } else { state.message = answer.message }
            return try await detail(call, scope, state: state, status: answer.status)
        }
        let type = answer.body["dynamicSecret"]?["type"]?.string ?? ""
        let exports = app.providers.consoleForm(.dynamicSecret(type: type))?.exports ?? [:]
        let data = (answer.body["data"]?.object ?? [:]).sorted { $0.key < $1.key }.compactMap { k, v in v.string.map { (k, $0) } }
        return try await call.page("reveal", title: "Credentials of \(scope.name)", section: "projects", [
            "heading": "New lease of \(scope.name)",
            "intro": "Lease \(answer.body["lease"]?["id"]?.string ?? "") expires at \(answer.body["lease"]?["expireAt"]?.string ?? ""). Copy the credentials now: they are shown only once.",
            "secrets": data.enumerated().map { n, kv in ["label": kv.0, "id": "secret-\(n)", "value": kv.1] },
            "export": flag(Self.exportBlock(data, exports)), "back": scope.href])
    }

    /// `export NAME='value'` lines, values single-quoted for the shell.
    static func exportBlock(_ data: [(String, String)], _ names: [String: String]) -> String {
        data.map { k, v in "export \(names[k] ?? k)='\(v.replacingOccurrences(of: "'", with: "'\\''"))'" }.joined(separator: "\n")
    }
}
