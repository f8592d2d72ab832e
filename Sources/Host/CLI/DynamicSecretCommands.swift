import ArgumentParser
import CLISupport
import Foundation

/// Where a dynamic secret lives.
struct ScopeOptions: ParsableArguments {
    @Option(help: "Project slug") var project: String
    @Option(help: "Environment slug") var env: String = "dev"
    @Option(help: "Folder path") var path: String = "/"

    var query: [String: String?] { ["projectSlug": project, "environmentSlug": env, "path": path] }
    var body: [String: Any] { ["projectSlug": project, "environmentSlug": env, "path": path] }
}

struct DynamicSecrets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dynamic-secrets", abstract: "Manage dynamic secret configurations.",
                                                    subcommands: [Create.self, List.self, Get.self, Delete.self])

    static let columns = ["name", "type", "defaultTTL", "maxTTL", "version", "id"]

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an aws-iam dynamic secret; inputs as JSON (see api.md).")
        @OptionGroup var server: ServerOptions
        @OptionGroup var scope: ScopeOptions
        @Option(help: "Name") var name: String
        @Option(help: "Provider type") var type: String = "aws-iam"
        @Option(help: "Provider inputs as a JSON object, or @file") var inputs: String
        @Option(help: "Default lease TTL (e.g. 1h)") var defaultTtl: String = "1h"
        @Option(help: "Max lease TTL (e.g. 24h)") var maxTtl: String = "24h"

        func run() async throws {
            let text = inputs.hasPrefix("@") ? try String(contentsOfFile: String(inputs.dropFirst()), encoding: .utf8) : inputs
            guard let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { throw ValidationError("--inputs must be a JSON object") }
            var body = scope.body
            body.merge(["name": name, "defaultTTL": defaultTtl, "maxTTL": maxTtl, "provider": ["type": type, "inputs": parsed]]) { _, b in b }
            let r = try await server.client.call(.POST, "/api/v1/dynamic-secrets", body: body)
            if server.json { try Output.json(r) } else { Output.table([r["dynamicSecret"] as? [String: Any] ?? [:]], columns: DynamicSecrets.columns) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dynamic secrets at a path.")
        @OptionGroup var server: ServerOptions
        @OptionGroup var scope: ScopeOptions
        func run() async throws {
            let r = try await server.client.call(.GET, "/api/v1/dynamic-secrets" + APIClient.query(scope.query))
            if server.json { try Output.json(r) } else { Output.table(r["dynamicSecrets"] as? [[String: Any]] ?? [], columns: DynamicSecrets.columns) }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one dynamic secret (secret inputs are masked).")
        @OptionGroup var server: ServerOptions
        @OptionGroup var scope: ScopeOptions
        @Argument var name: String
        func run() async throws {
            let r = try await server.client.call(.GET, "/api/v1/dynamic-secrets/\(name)" + APIClient.query(scope.query))
            if server.json { try Output.json(r) } else { Output.table([r["dynamicSecret"] as? [String: Any] ?? [:]], columns: DynamicSecrets.columns) }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a dynamic secret after revoking its leases.")
        @OptionGroup var server: ServerOptions
        @OptionGroup var scope: ScopeOptions
        @Argument var name: String
        @Flag(help: "Drop leases even if revoking them in AWS fails") var force = false
        func run() async throws {
            var body = scope.body
            body["isForced"] = force
            let r = try await server.client.call(.DELETE, "/api/v1/dynamic-secrets/\(name)", body: body)
            if server.json { try Output.json(r) } else { print("deleted \(name)") }
        }
    }
}

struct Leases: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create, renew, revoke and inspect leases.",
                                                    subcommands: [Create.self, Renew.self, Revoke.self, List.self, Get.self])

    static let columns = ["id", "status", "expireAt", "externalEntityId"]

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a lease and print its credentials (shown once).")
        @OptionGroup var server: ServerOptions
        @OptionGroup var scope: ScopeOptions
        @Argument(help: "Dynamic secret name") var name: String
        @Option(help: "Lease TTL (e.g. 30m)") var ttl: String?
        @Flag(help: "Print `export AWS_...=` lines") var envFormat = false

        func run() async throws {
            var body = scope.body
            body["dynamicSecretName"] = name
            if let ttl { body["ttl"] = ttl }
            let r = try await server.client.call(.POST, "/api/v1/dynamic-secrets/leases", body: body)
            let data = r["data"] as? [String: String] ?? [:]
            if envFormat {
                let names = ["ACCESS_KEY": "AWS_ACCESS_KEY_ID", "SECRET_ACCESS_KEY": "AWS_SECRET_ACCESS_KEY", "SESSION_TOKEN": "AWS_SESSION_TOKEN"]
                for (key, variable) in names.sorted(by: { $0.value < $1.value }) {
                    if let value = data[key], !value.isEmpty { print("export \(variable)='\(value)'") }
                }
                if let lease = r["lease"] as? [String: Any] { print("# lease \(lease["id"] ?? "") expires \(lease["expireAt"] ?? "")") }
            } else if server.json {
                try Output.json(r)
            } else {
                Output.table([r["lease"] as? [String: Any] ?? [:]], columns: Leases.columns)
                for (k, v) in data.sorted(by: { $0.key < $1.key }) { print("\(k)=\(v)") }
            }
        }
    }

    struct Renew: AsyncParsableCommand {
        @OptionGroup var server: ServerOptions
        @OptionGroup var scope: ScopeOptions
        @Argument var leaseId: String
        @Option(help: "Extend by (e.g. 30m)") var ttl: String?
        func run() async throws {
            var body = scope.body
            if let ttl { body["ttl"] = ttl }
            let r = try await server.client.call(.POST, "/api/v1/dynamic-secrets/leases/\(leaseId)/renew", body: body)
            if server.json { try Output.json(r) } else { Output.table([r["lease"] as? [String: Any] ?? [:]], columns: Leases.columns) }
        }
    }

    struct Revoke: AsyncParsableCommand {
        @OptionGroup var server: ServerOptions
        @OptionGroup var scope: ScopeOptions
        @Argument var leaseId: String
        @Flag(help: "Drop the lease even if AWS refuses, recording why") var force = false
        func run() async throws {
            var body = scope.body
            body["isForced"] = force
            let r = try await server.client.call(.DELETE, "/api/v1/dynamic-secrets/leases/\(leaseId)", body: body)
            if server.json { try Output.json(r) } else { Output.table([r["lease"] as? [String: Any] ?? [:]], columns: Leases.columns) }
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var server: ServerOptions
        @OptionGroup var scope: ScopeOptions
        @Argument(help: "Dynamic secret name") var name: String
        func run() async throws {
            let r = try await server.client.call(.GET, "/api/v1/dynamic-secrets/\(name)/leases" + APIClient.query(scope.query))
            if server.json { try Output.json(r) } else { Output.table(r["leases"] as? [[String: Any]] ?? [], columns: Leases.columns) }
        }
    }

    struct Get: AsyncParsableCommand {
        @OptionGroup var server: ServerOptions
        @OptionGroup var scope: ScopeOptions
        @Argument var leaseId: String
        func run() async throws {
            let r = try await server.client.call(.GET, "/api/v1/dynamic-secrets/leases/\(leaseId)" + APIClient.query(scope.query))
            if server.json { try Output.json(r) } else { Output.table([r["lease"] as? [String: Any] ?? [:]], columns: Leases.columns) }
        }
    }
}
