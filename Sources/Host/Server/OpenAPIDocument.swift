import Core
import Foundation

/// The hand-kept OpenAPI 3.1 description of every route. A test checks that every registered
/// route appears here, so a new route cannot ship undocumented.
enum OpenAPIDocument {
    typealias JSON = [String: Any]

    static func string(_ maxLength: Int? = nil, format: String? = nil) -> JSON {
        var s: JSON = ["type": "string"]
        if let maxLength { s["maxLength"] = maxLength }
        if let format { s["format"] = format }
        return s
    }
    static func object(_ properties: [String: JSON], required: [String] = []) -> JSON {
        ["type": "object", "properties": properties, "required": required]
    }
    static var integer: JSON { ["type": "integer"] }
    static var anyObject: JSON { ["type": "object"] }
    static func ref(_ name: String) -> JSON { ["$ref": "#/components/schemas/\(name)"] }

    static func operation(_ summary: String, tag: String, auth: Bool = true, body: JSON? = nil, parameters: [JSON] = [],
                          response: JSON = anyObject, errors: [Int] = [400, 401, 403, 404, 422]) -> JSON {
        var responses: JSON = ["200": ["description": "OK", "content": ["application/json": ["schema": response]]]]
        for code in errors where auth || code != 401 && code != 403 {
            responses[String(code)] = ["description": "Error", "content": ["application/json": ["schema": ref("Error")]]]
        }
        var op: JSON = ["summary": summary, "tags": [tag], "responses": responses]
        if !parameters.isEmpty { op["parameters"] = parameters }
        if let body { op["requestBody"] = ["required": true, "content": ["application/json": ["schema": body]]] }
        op["security"] = auth ? [["bearerAuth": [String]()]] : [JSON]()
        return op
    }
    static func path(_ name: String) -> JSON { ["name": name, "in": "path", "required": true, "schema": string(64)] }
    static func query(_ name: String, required: Bool = false, schema: JSON = string(256)) -> JSON {
        ["name": name, "in": "query", "required": required, "schema": schema]
    }

    static var corePaths: [String: JSON] {
        let tokenBody = object(["accessToken": string(512)], required: ["accessToken"])
        return [
            "/api/status": ["get": operation("Server status and version", tag: "operations", auth: false, errors: [])],
            "/api/health": ["get": operation("Readiness: the database answers", tag: "operations", auth: false, errors: [503])],
            "/metrics": ["get": operation("Prometheus metrics", tag: "operations", auth: false, response: string(), errors: [])],
            "/api/docs/openapi.json": ["get": operation("This document", tag: "operations", auth: false, errors: [])],
            "/api/v1/admin/bootstrap": ["post": operation("Initialise the instance (once)", tag: "instance", auth: false,
                body: object(["email": string(254, format: "email"), "password": string(1024), "organization": string(128)], required: ["email", "password", "organization"]))],
            "/api/v1/auth/user/login": ["post": operation("Sign a user in to one organization (organizationId, else the oldest membership)", tag: "instance", auth: false,
                body: object(["email": string(254), "password": string(1024), "organizationId": string(64)], required: ["email", "password"]))],
            "/api/v1/auth/user/accept-invite": ["post": operation("Accept an invitation with your own password (new account) or your existing one", tag: "instance",
                auth: false, body: object(["inviteToken": string(512), "password": string(1024)], required: ["inviteToken", "password"]), errors: [400, 401, 409, 422, 503])],
            "/api/v1/organizations": ["post": operation("Create an organization (instance admin)", tag: "instance",
                body: object(["name": string(128), "slug": string(64)], required: ["name"]), errors: [400, 401, 403, 409, 422])],
            "/api/v1/organizations/{orgId}/users": ["post": operation("Invite a person (answers {invitation, inviteToken}); an instance admin may instead create an account with a password", tag: "instance",
                body: object(["email": string(254), "password": string(1024), "role": ["type": "string", "enum": ["admin", "member", "no-access"]]], required: ["email", "role"]),
                parameters: [path("orgId")], errors: [400, 401, 403, 404, 409, 422]),
                "get": operation("List an organization's people and their roles (org admin)", tag: "instance", parameters: [path("orgId")])],
            "/api/v1/admin/users/remove": ["post": operation("Remove a person's account everywhere (instance admin), revoking their tokens", tag: "instance",
                body: object(["email": string(254)], required: ["email"]), errors: [400, 401, 403, 404, 422])],
            "/api/v1/identities": [
                "post": operation("Create a machine identity", tag: "identities",
                    body: object(["name": string(128), "organizationId": string(64), "role": ["type": "string", "enum": ["admin", "member", "no-access"]]], required: ["name", "organizationId"])),
                "get": operation("List an organization's identities", tag: "identities", parameters: [query("orgId", required: true)]),
            ],
            "/api/v1/identities/{identityId}": [
                "get": operation("Get an identity", tag: "identities", parameters: [path("identityId")]),
                "patch": operation("Update an identity", tag: "identities", body: object(["name": string(128), "role": ["type": "string", "enum": ["admin", "member", "no-access"]]]), parameters: [path("identityId")]),
                "delete": operation("Delete an identity and revoke its tokens", tag: "identities", parameters: [path("identityId")]),
            ],
            "/api/v1/projects": ["post": operation("Create a project", tag: "projects",
                body: object(["projectName": string(128), "slug": string(64), "organizationId": string(64)], required: ["projectName"]), errors: [400, 401, 403, 404, 409, 422]),
                "get": operation("List the projects of an organization the caller sees (all for org admins)", tag: "projects",
                                 parameters: [query("organizationId", schema: string(64))])],
            "/api/v1/projects/{projectId}": [
                "get": operation("Get a project", tag: "projects", parameters: [path("projectId")]),
                "delete": operation("Delete a project", tag: "projects", parameters: [path("projectId")]),
            ],
            "/api/v1/projects/{projectId}/environments": ["post": operation("Add an environment", tag: "projects",
                body: object(["name": string(128), "slug": string(64)], required: ["name", "slug"]), parameters: [path("projectId")], errors: [400, 401, 403, 404, 409, 422])],
            "/api/v1/projects/{projectId}/identity-memberships/{identityId}": [
                "post": operation("Set an identity's project role", tag: "projects",
                    body: object(["role": ["type": "string", "enum": ["admin", "member", "viewer", "no-access"]]], required: ["role"]), parameters: [path("projectId"), path("identityId")]),
                "delete": operation("Remove an identity from a project", tag: "projects", parameters: [path("projectId"), path("identityId")]),
            ],
            "/api/v1/projects/{projectId}/memberships": ["post": operation("Set a user's project role", tag: "projects",
                body: object(["userId": string(64), "email": string(254), "role": ["type": "string", "enum": ["admin", "member", "viewer", "no-access"]]], required: ["role"]),
                parameters: [path("projectId")])],
            "/api/v1/auth/token/renew": ["post": operation("Renew an access token", tag: "tokens", auth: false, body: tokenBody)],
            "/api/v1/auth/token/revoke": ["post": operation("Revoke an access token", tag: "tokens", auth: false, body: tokenBody)],
            "/api/v1/auth/token/self": ["get": operation("Describe the calling token", tag: "tokens")],
            "/api/v1/organizations/{orgId}/audit-logs": ["get": operation("List audit entries", tag: "audit", parameters: [
                path("orgId"), query("eventType"), query("actorId"), query("projectId"), query("startDate"), query("endDate"),
                query("offset", schema: ["type": "integer", "minimum": 0]), query("limit", schema: ["type": "integer", "minimum": 1, "maximum": 1000]),
                query("before", schema: ["type": "integer", "minimum": 1]),
            ])],
            "/api/v1/organizations/{orgId}/audit-logs/verify": ["get": operation("Verify the audit hash chain (all of it, or the last N entries)", tag: "audit",
                parameters: [path("orgId"), query("last", schema: ["type": "integer", "minimum": 1])])],
            "/api/v1/pam/accounts/access": ["post": operation("Open access on a PAM account (people only): a console URL (web) or credentials (cli)", tag: "pam",
                body: object(["accountId": string(64), "projectId": string(64), "accessMethod": ["type": "string", "maxLength": 16], "reason": string(1000)],
                             required: ["accountId", "projectId"]), errors: [400, 401, 403, 404, 422, 502])],
            "/api/v1/pam/resources": ["get": operation("List a project's PAM resources of every type", tag: "pam", parameters: [query("projectId", required: true, schema: string(64))])],
            "/api/v1/pam/accounts": ["get": operation("List a project's PAM accounts of every type", tag: "pam", parameters: [query("projectId", required: true, schema: string(64))])],
            "/api/v1/pam/sessions": ["get": operation("List a project's PAM sessions", tag: "pam", parameters: [query("projectId", required: true, schema: string(64))])],
            "/api/v1/pam/sessions/{sessionId}": ["get": operation("Get a PAM session", tag: "pam", parameters: [path("sessionId")])],
            "/api/v1/pam/sessions/{sessionId}/revoke": ["post": operation("Revoke a PAM session for real (its person or a project admin)", tag: "pam",
                parameters: [path("sessionId")], errors: [401, 403, 404, 409, 502])],
            "/api/v1/pam/access-requests": [
                "post": operation("Request access to an account that needs approval", tag: "pam",
                    body: object(["projectId": string(64), "accountId": string(64), "duration": ["type": ["integer", "string"]], "reason": string(1000)],
                                 required: ["projectId", "accountId"]), errors: [400, 401, 403, 404, 422]),
                "get": operation("List a project's access requests", tag: "pam", parameters: [query("projectId", required: true, schema: string(64)), query("status")]),
            ],
            "/api/v1/pam/access-requests/{requestId}": ["get": operation("Get an access request with its reviews", tag: "pam", parameters: [path("requestId")])],
            "/api/v1/pam/access-requests/{requestId}/review": ["post": operation("Approve or deny a request (listed approvers, never the requester)", tag: "pam",
                body: object(["decision": ["type": "string", "enum": ["approve", "deny"]], "comment": string(1000)], required: ["decision"]),
                parameters: [path("requestId")], errors: [400, 401, 403, 404, 409, 422])],
            "/api/v1/pam/access-requests/{requestId}/cancel": ["post": operation("Cancel a request; an open grant ends for real (the requester)", tag: "pam",
                parameters: [path("requestId")], errors: [401, 403, 404, 409, 502])],
            "/api/v1/pam/notification-settings": [
                "put": operation("Set a project's access-request webhook (Slack-compatible, signed)", tag: "pam",
                    body: object(["projectId": string(64), "url": string(2048), "secret": string(1024)], required: ["projectId", "url", "secret"])),
                "get": operation("Get a project's access-request webhook", tag: "pam", parameters: [query("projectId", required: true, schema: string(64))]),
                "delete": operation("Remove a project's access-request webhook", tag: "pam", parameters: [query("projectId", required: true, schema: string(64))]),
            ],
        ].merging(dynamicSecretPaths) { a, _ in a }
    }

    static var dynamicSecretPaths: [String: JSON] {
        let scope = [query("projectSlug", required: true, schema: string(64)), query("environmentSlug", required: true, schema: string(64)), query("path")]
        let scopeBody: [String: JSON] = ["projectSlug": string(64), "environmentSlug": string(64), "path": string(256)]
        let duration: JSON = ["type": ["integer", "string"], "maxLength": 16]
        let provider = object(["type": string(32), "inputs": anyObject], required: ["type", "inputs"])
        let errors = [400, 401, 403, 404, 409, 422, 502]
        return [
            "/api/v1/dynamic-secrets": [
                "post": operation("Create a dynamic secret", tag: "dynamic-secrets",
                    body: object(scopeBody.merging(["name": string(64), "defaultTTL": duration, "maxTTL": duration, "provider": provider]) { a, _ in a },
                                 required: ["name", "projectSlug", "environmentSlug", "provider"]), errors: errors),
                "get": operation("List dynamic secrets", tag: "dynamic-secrets", parameters: scope),
            ],
            "/api/v1/dynamic-secrets/{name}": [
                "get": operation("Get a dynamic secret", tag: "dynamic-secrets", parameters: [path("name")] + scope),
                "patch": operation("Update a dynamic secret", tag: "dynamic-secrets",
                    body: object(scopeBody.merging(["data": object(["inputs": anyObject, "defaultTTL": duration, "maxTTL": duration, "newName": string(64)])]) { a, _ in a },
                                 required: ["data"]), parameters: [path("name")], errors: errors),
                "delete": operation("Delete a dynamic secret, revoking its leases", tag: "dynamic-secrets",
                    body: object(scopeBody.merging(["isForced": ["type": "boolean"]]) { a, _ in a }), parameters: [path("name")], errors: errors),
            ],
            "/api/v1/dynamic-secrets/{name}/leases": ["get": operation("List a dynamic secret's leases", tag: "dynamic-secrets", parameters: [path("name")] + scope)],
            "/api/v1/dynamic-secrets/leases": ["post": operation("Create a lease (the secret data is returned once)", tag: "dynamic-secrets",
                body: object(scopeBody.merging(["dynamicSecretName": string(64), "ttl": duration]) { a, _ in a }, required: ["dynamicSecretName"]), errors: errors)],
            "/api/v1/dynamic-secrets/leases/{leaseId}": [
                "get": operation("Get a lease", tag: "dynamic-secrets", parameters: [path("leaseId")] + scope),
                "delete": operation("Revoke a lease", tag: "dynamic-secrets",
                    body: object(scopeBody.merging(["isForced": ["type": "boolean"]]) { a, _ in a }), parameters: [path("leaseId")], errors: errors),
            ],
            "/api/v1/dynamic-secrets/leases/{leaseId}/renew": ["post": operation("Renew a lease", tag: "dynamic-secrets",
                body: object(scopeBody.merging(["ttl": duration]) { a, _ in a }), parameters: [path("leaseId")], errors: errors)],
        ]
    }

    /// The document as JSON text, with each plugin's paths merged in.
    static func json(plugins: [any KMSPlugin]) -> String {
        var paths = corePaths
        for plugin in plugins {
            for (path, item) in plugin.openAPIPaths {
                if let data = item.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? JSON {
                    paths[path, default: [:]].merge(object) { a, _ in a }
                }
            }
        }
        let document: JSON = [
            "openapi": "3.1.0",
            "info": ["title": "kms", "version": KMSVersion.current,
                     "description": "Machine identity and AWS access platform; Infisical-compatible REST dialect."],
            "paths": paths,
            "components": [
                "securitySchemes": ["bearerAuth": ["type": "http", "scheme": "bearer"]],
                "schemas": ["Error": object(["reqId": string(), "statusCode": integer, "message": string(), "error": string()],
                                            required: ["reqId", "statusCode", "message", "error"])],
            ],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
