import Core
import ArgumentParser
import CLISupport
import Foundation


struct Projects: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Projects.", subcommands: [Create.self, AddUser.self])
    struct Create: AsyncParsableCommand {
        @OptionGroup var server: ServerOptions
        @Option(help: "Project name") var name: String
        @Option(help: "Slug (default: from the name)") var slug: String?
        func run() async throws {
            var body: [String: Any] = ["projectName": name]
            if let slug { body["slug"] = slug }
            let r = try await server.client.call(.POST, "/api/v1/projects", body: body)
            if server.json { try Output.json(r) } else { Output.table([r["project"] as? [String: Any] ?? [:]], columns: ["id", "slug", "name"]) }
        }
    }
    struct AddUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-user")
        @OptionGroup var server: ServerOptions
        @Argument var projectId: String
        @Option var email: String
        @Option(help: "admin, member, viewer or no-access") var role: String = "member"
        func run() async throws {
            let r = try await server.client.call(.POST, "/api/v1/projects/\(projectId)/memberships", body: ["email": email, "role": role])
            if server.json { try Output.json(r) } else { print("\(email) is \(role) in \(projectId)") }
        }
    }
}

struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "People of the token's organization.", subcommands: [Invite.self, AcceptInvite.self, Create.self])

    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Invite a person (org admin); prints the one-time invitation token to hand them.")
        @OptionGroup var server: ServerOptions
        @Option var email: String
        @Option(help: "admin, member or no-access") var role: String = "member"
        func run() async throws {
            let client = try server.client
            let r = try await client.call(.POST, "/api/v1/organizations/\(try await callerOrgId(client))/users", body: ["email": email, "role": role])
            if server.json { try Output.json(r) } else {
                print("invited \(email) as \(role); the invitation expires in 72 hours. Hand them this token (shown once):")
                print(r["inviteToken"] as? String ?? "")
            }
        }
    }

    struct AcceptInvite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "accept-invite",
            abstract: "Accept an invitation with your own password (a new account) or your existing one; prints your access token.")
        @Option(help: "The kms server URL (or KMS_SERVER_URL)") var server: String?
        @Option(help: "The invitation token (or KMS_INVITE_TOKEN)") var token: String?
        @Option(help: "Your password (or KMS_PASSWORD)") var password: String?
        func run() async throws {
            let env = ProcessInfo.processInfo.environment
            guard let token = token ?? env["KMS_INVITE_TOKEN"] else { throw ValidationError("--token or KMS_INVITE_TOKEN is required") }
            guard let password = password ?? env["KMS_PASSWORD"] else { throw ValidationError("--password or KMS_PASSWORD is required") }
            let client = APIClient(baseURL: server ?? env["KMS_SERVER_URL"] ?? "http://127.0.0.1:8080", token: "")
            let r = try await client.call(.POST, "/api/v1/auth/user/accept-invite", body: ["inviteToken": token, "password": password])
            print(r["accessToken"] as? String ?? "")
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account with a password (instance admins only; org admins invite).")
        @OptionGroup var server: ServerOptions
        @Option var email: String
        @Option(help: "Password (or KMS_PASSWORD)") var password: String?
        @Option(help: "admin, member or no-access") var role: String = "member"
        func run() async throws {
            guard let password = password ?? ProcessInfo.processInfo.environment["KMS_PASSWORD"] else { throw ValidationError("--password or KMS_PASSWORD is required") }
            let client = try server.client
            let r = try await client.call(.POST, "/api/v1/organizations/\(try await callerOrgId(client))/users", body: ["email": email, "password": password, "role": role])
            if server.json { try Output.json(r) } else { Output.table([r["user"] as? [String: Any] ?? [:]], columns: ["id", "email"]) }
        }
    }
}

struct Identities: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Machine identities.", subcommands: [Create.self, AttachAWS.self])
    struct Create: AsyncParsableCommand {
        @OptionGroup var server: ServerOptions
        @Option var name: String
        @Option(help: "admin, member or no-access") var role: String = "member"
        func run() async throws {
            let client = try server.client
            let r = try await client.call(.POST, "/api/v1/identities", body: ["name": name, "organizationId": try await callerOrgId(client), "role": role])
            if server.json { try Output.json(r) } else { Output.table([r["identity"] as? [String: Any] ?? [:]], columns: ["id", "name", "role"]) }
        }
    }
    struct AttachAWS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "attach-aws", abstract: "Attach AWS Auth to an identity.")
        @OptionGroup var server: ServerOptions
        @Argument var identityId: String
        @Option(help: "Allowed principal ARNs, comma-separated (* wildcards)") var principals: String = ""
        @Option(help: "Allowed 12-digit account ids, comma-separated") var accounts: String = ""
        @Option(help: "Token TTL in seconds") var ttl: Int = 3600
        @Option(help: "Require this signed X-KMS-AWS-IAM-Server-ID value") var serverId: String?
        func run() async throws {
            var body: [String: Any] = ["allowedPrincipalArns": principals, "allowedAccountIds": accounts, "accessTokenTTL": ttl, "accessTokenMaxTTL": max(ttl, 86400)]
            if let serverId { body["iamServerIdHeaderValue"] = serverId }
            let r = try await server.client.call(.POST, "/api/v1/auth/aws-auth/identities/\(identityId)", body: body)
            if server.json { try Output.json(r) } else {
                Output.table([r["identityAwsAuth"] as? [String: Any] ?? [:]], columns: ["identityId", "allowedPrincipalArns", "allowedAccountIds", "accessTokenTTL"])
            }
        }
    }
}

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The organization's audit log.", subcommands: [List.self, Verify.self])
    struct List: AsyncParsableCommand {
        @OptionGroup var server: ServerOptions
        @Option var limit: Int = 20
        @Option(help: "Only this event type") var eventType: String?
        func run() async throws {
            let client = try server.client
            let q = APIClient.query(["limit": String(limit), "eventType": eventType])
            let r = try await client.call(.GET, "/api/v1/organizations/\(try await callerOrgId(client))/audit-logs" + q)
            if server.json { try Output.json(r); return }
            let rows = (r["auditLogs"] as? [[String: Any]] ?? []).map { e -> [String: Any] in
                var row = e
                row["actor"] = ((e["actor"] as? [String: Any])?["type"] as? String) ?? ""
                return row
            }
            Output.table(rows, columns: ["createdAt", "eventType", "actor", "ipAddress"])
        }
    }
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify the organization's audit chain on the server, or events a stream delivered.",
            discussion: """
                With --file, checks received events offline (a JSON-lines file, a file of {"events":[...]} batches, or a directory of \
                such files): every sequence present, each entry's hash matching its content, each linked to the one before. \
                Duplicates are allowed. Exits 1 at the first gap, edit or broken link.
                """)
        @OptionGroup var server: ServerOptions
        @Option(help: "A received file or directory to check instead of asking the server") var file: String?
        @Option(help: "With --file: the sequence the events must start at (1: the whole chain)") var from: Int64?
        @Option(help: "With --file: the organization the events must belong to") var org: String?

        func run() async throws {
            if let file {
                let events = try ReceivedEvents.read(file)
                if let org, let other = events.first(where: { $0.orgId != org }) {
                    print("audit events BROKEN: \(other.id) belongs to organization \(other.orgId), not \(org)")
                    throw ExitCode(1)
                }
                let result = AuditChainCheck.verify(events, from: from)
                let span = result.first.map { "sequences \($0)-\(result.last ?? $0)" } ?? "no events"
                if let problem = result.problem {
                    print("audit events BROKEN: \(problem) (\(result.checked) distinct events read, \(span))")
                    throw ExitCode(1)
                }
                print("audit events intact: \(result.checked) events, \(span), \(result.duplicates) duplicates")
                return
            }
            let client = try server.client
            let r = try await client.call(.GET, "/api/v1/organizations/\(try await callerOrgId(client))/audit-logs/verify")
            if server.json { try Output.json(r) } else { print((r["valid"] as? Bool) == true ? "audit chain intact (\(r["checked"] ?? 0) entries)" : "audit chain BROKEN at \(r["firstBrokenId"] ?? "the end")") }
        }
    }
}

struct LoginUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "Sign a person in and print the access token.")
    @Option(help: "The kms server URL (or KMS_SERVER_URL)") var server: String?
    @Option var email: String
    @Option(help: "Password (or KMS_PASSWORD)") var password: String?
    @Option(help: "The organization to sign in to (default: your oldest membership)") var organizationId: String?
    func run() async throws {
        guard let password = password ?? ProcessInfo.processInfo.environment["KMS_PASSWORD"] else { throw ValidationError("--password or KMS_PASSWORD is required") }
        let client = APIClient(baseURL: server ?? ProcessInfo.processInfo.environment["KMS_SERVER_URL"] ?? "http://127.0.0.1:8080", token: "")
        var body: [String: Any] = ["email": email, "password": password]
        if let organizationId { body["organizationId"] = organizationId }
        let r = try await client.call(.POST, "/api/v1/auth/user/login", body: body)
        print(r["accessToken"] as? String ?? "")
    }
}
