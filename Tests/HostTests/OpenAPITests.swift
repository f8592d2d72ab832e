import Core
import Foundation
import Testing
@testable import Host

@Suite struct OpenAPITests {
    /// Every route the router serves is described in the served OpenAPI document.
    @Test func everyRegisteredRouteIsDocumented() async throws {
        try await Harness.with(.sqlite) { h in
            let router = try h.builder.buildRouter()
            let text = OpenAPIDocument.json(plugins: h.builder.plugins)
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(doc["openapi"] as? String == "3.1.0")
            let paths = try #require(doc["paths"] as? [String: [String: Any]])
            var checked = 0
            for route in router.routes {
                let path = route.path.description.hasPrefix("/") ? route.path.description : "/" + route.path.description
                // The web console's HTML pages live outside /api and are not part of the API.
                if !path.hasPrefix("/api/") && !path.hasPrefix("/edge/") && path != "/metrics" { continue }
                let item = paths[path]
                #expect(item != nil, "undocumented path \(path)")
                #expect(item?[route.method.rawValue.lowercased()] != nil, "undocumented method \(route.method) \(path)")
                checked += 1
            }
            #expect(checked >= 20)
            try await h.test { api in
                let served = try await api.call(.get, "/api/docs/openapi.json")
                #expect(served.status == 200)
                #expect(served.text == text)
            }
        }
    }

    /// The server-ID header, which a login carries inside its signed headers, is named where a
    /// client reads about it: the login body and the config field.
    @Test func theServerIDHeaderIsDocumented() throws {
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json(plugins: PluginList.all).utf8)) as? [String: Any])
        let paths = try #require(doc["paths"] as? [String: Any])
        func text(_ path: String) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: try #require(paths[path])), as: UTF8.self)
        }
        #expect(try text("/api/v1/auth/aws-auth/login").contains("X-KMS-AWS-IAM-Server-ID"))
        #expect(try text("/api/v1/auth/aws-auth/identities/{identityId}").contains("X-KMS-AWS-IAM-Server-ID"))
    }
}
