import ArgumentParser
import CLISupport
import Foundation

/// `kms pam ...`: PAM resources, accounts, access and sessions.
struct PAMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pam", abstract: "Just-in-time AWS console access.",
                                                    subcommands: [Resources.self, Accounts.self, Access.self, Requests.self, Sessions.self])

    struct Resources: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "PAM resources (an AWS account reached through a resource role).",
                                                        subcommands: [Create.self, Get.self, Delete.self])
        struct Create: AsyncParsableCommand {
            @OptionGroup var server: ServerOptions
            @Option(help: "Project id") var projectId: String
            @Option(help: "Name") var name: String
            @Option(help: "The resource role ARN (trusting this server with ExternalId = the project id)") var roleArn: String
            func run() async throws {
                let r = try await server.client.call(.POST, "/api/v1/pam/resources/aws-iam",
                                                     body: ["projectId": projectId, "name": name, "connectionDetails": ["roleArn": roleArn]])
                if server.json { try Output.json(r) } else { Output.table([r["resource"] as? [String: Any] ?? [:]], columns: ["id", "name", "projectId"]) }
            }
        }
        struct Get: AsyncParsableCommand {
            @OptionGroup var server: ServerOptions
            @Argument var resourceId: String
            func run() async throws {
                let r = try await server.client.call(.GET, "/api/v1/pam/resources/aws-iam/\(resourceId)")
                if server.json { try Output.json(r) } else { Output.table([r["resource"] as? [String: Any] ?? [:]], columns: ["id", "name", "projectId"]) }
            }
        }
        struct Delete: AsyncParsableCommand {
            @OptionGroup var server: ServerOptions
            @Argument var resourceId: String
            func run() async throws {
                _ = try await server.client.call(.DELETE, "/api/v1/pam/resources/aws-iam/\(resourceId)")
                print("deleted \(resourceId)")
            }
        }
    }

    struct Accounts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "PAM accounts (a target role on a resource).", subcommands: [Create.self])
        struct Create: AsyncParsableCommand {
            @OptionGroup var server: ServerOptions
            @Option(help: "Resource id") var resourceId: String
            @Option(help: "Name") var name: String
            @Option(help: "Description") var description: String?
            @Option(help: "Target role ARN") var targetRoleArn: String
            @Option(help: "Session duration, 15m to 1h") var duration: String = "1h"
            @Flag(help: "Access needs an approved request") var requiresApproval = false
            @Option(help: "An approver's e-mail (repeat for more); project members") var approver: [String] = []
            @Option(help: "Approvals needed") var minApprovals: Int = 1
            @Option(help: "Longest grant a request may ask for, 15m to 1h") var maxDuration: String = "1h"
            @Flag(help: "Requests must give a reason") var requireReason = false
            func run() async throws {
                var body: [String: Any] = ["resourceId": resourceId, "name": name, "credentials": ["targetRoleArn": targetRoleArn, "defaultSessionDuration": duration]]
                if let description { body["description"] = description }
                if requiresApproval {
                    body["accessPolicy"] = ["requiresApproval": true, "approvers": approver, "minApprovals": minApprovals, "maxDuration": maxDuration,
                                            "requireReason": requireReason]
                }
                let r = try await server.client.call(.POST, "/api/v1/pam/accounts/aws-iam", body: body)
                if server.json { try Output.json(r) } else {
                    Output.table([r["account"] as? [String: Any] ?? [:]], columns: ["id", "name", "targetRoleArn", "defaultSessionDuration"])
                }
            }
        }
    }

    struct Access: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open a console session (prints the sign-in URL) or, with --cli, print credentials.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Account id") var accountId: String
        @Option(help: "Project id") var projectId: String
        @Flag(help: "Print `export AWS_...=` lines instead of a console URL") var cli = false
        @Option(help: "Why access is needed (recorded)") var reason: String?
        func run() async throws {
            var body: [String: Any] = ["accountId": accountId, "projectId": projectId, "accessMethod": cli ? "cli" : "web"]
            if let reason { body["reason"] = reason }
            let r = try await server.client.call(.POST, "/api/v1/pam/accounts/access", body: body)
            if server.json { try Output.json(r); return }
            let meta = r["metadata"] as? [String: Any] ?? [:]
            if cli, let c = r["credentials"] as? [String: String] {
                print("export AWS_ACCESS_KEY_ID='\(c["accessKeyId"] ?? "")'")
                print("export AWS_SECRET_ACCESS_KEY='\(c["secretAccessKey"] ?? "")'")
                print("export AWS_SESSION_TOKEN='\(c["sessionToken"] ?? "")'")
                print("# session \(r["sessionId"] ?? "") as \(meta["federatedUsername"] ?? "") until \(meta["expiresAt"] ?? "")")
            } else {
                print(r["consoleUrl"] as? String ?? "")
            }
        }
    }

    struct Requests: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Access requests for accounts that need approval.",
                                                        subcommands: [Create.self, List.self, Approve.self, Deny.self, Cancel.self])
        static func show(_ r: [String: Any], json: Bool) throws {
            if json { try Output.json(r); return }
            Output.table([r["accessRequest"] as? [String: Any] ?? [:]], columns: ["id", "status", "duration", "grantExpiresAt"])
        }
        struct Create: AsyncParsableCommand {
            @OptionGroup var server: ServerOptions
            @Option(help: "Project id") var projectId: String
            @Option(help: "Account id") var accountId: String
            @Option(help: "How long access is needed (seconds or 15m, 1h)") var duration: String = "1h"
            @Option(help: "Why (some accounts require it)") var reason: String?
            func run() async throws {
                var body: [String: Any] = ["projectId": projectId, "accountId": accountId, "duration": duration]
                if let reason { body["reason"] = reason }
                try Requests.show(try await server.client.call(.POST, "/api/v1/pam/access-requests", body: body), json: server.json)
            }
        }
        struct List: AsyncParsableCommand {
            @OptionGroup var server: ServerOptions
            @Option(help: "Project id") var projectId: String
            @Option(help: "pending, approved, denied, expired or cancelled") var status: String?
            func run() async throws {
                let r = try await server.client.call(.GET, "/api/v1/pam/access-requests" + APIClient.query(["projectId": projectId, "status": status]))
                if server.json { try Output.json(r); return }
                let rows = (r["accessRequests"] as? [[String: Any]] ?? []).map { row -> [String: Any] in
                    var out = row
                    out["requester"] = (row["requester"] as? [String: Any])?["email"] ?? ""
                    return out
                }
                Output.table(rows, columns: ["id", "requester", "accountId", "status", "duration", "createdAt"])
            }
        }
        /// Approve and deny differ only in the decision they send.
        struct ReviewOptions: ParsableArguments {
            @OptionGroup var server: ServerOptions
            @Argument(help: "Request id") var requestId: String
            @Option(help: "A comment, recorded") var comment: String?

            func send(_ decision: String) async throws {
                try Requests.show(try await server.client.call(.POST, "/api/v1/pam/access-requests/\(requestId)/review",
                                                               body: ["decision": decision, "comment": comment ?? ""]), json: server.json)
            }
        }
        struct Approve: AsyncParsableCommand {
            @OptionGroup var review: ReviewOptions
            func run() async throws { try await review.send("approve") }
        }
        struct Deny: AsyncParsableCommand {
            @OptionGroup var review: ReviewOptions
            func run() async throws { try await review.send("deny") }
        }
        struct Cancel: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Cancel your request; an open grant ends for real.")
            @OptionGroup var server: ServerOptions
            @Argument(help: "Request id") var requestId: String
            func run() async throws {
                try Requests.show(try await server.client.call(.POST, "/api/v1/pam/access-requests/\(requestId)/cancel", body: [:]), json: server.json)
            }
        }
    }

    struct Sessions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A project's PAM sessions.", subcommands: [List.self, Revoke.self], defaultSubcommand: List.self)
        struct List: AsyncParsableCommand {
            @OptionGroup var server: ServerOptions
            @Option(help: "Project id") var projectId: String
            func run() async throws {
                let r = try await server.client.call(.GET, "/api/v1/pam/sessions" + APIClient.query(["projectId": projectId]))
                if server.json { try Output.json(r) } else {
                    Output.table(r["sessions"] as? [[String: Any]] ?? [], columns: ["id", "userEmail", "accessMethod", "status", "startedAt", "expiresAt"])
                }
            }
        }
        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "End a session for real: its credentials and console links stop working.")
            @OptionGroup var server: ServerOptions
            @Argument(help: "Session id") var sessionId: String
            func run() async throws {
                let r = try await server.client.call(.POST, "/api/v1/pam/sessions/\(sessionId)/revoke", body: [:])
                if server.json { try Output.json(r) } else { Output.table([r["session"] as? [String: Any] ?? [:]], columns: ["id", "userEmail", "status", "endedAt"]) }
            }
        }
    }
}

/// PAM's CLI: `kms pam ...`.
extension PAMAWSConsolePlugin: PluginCommands {
    public var commands: [any ParsableCommand.Type] { [PAMCommand.self] }
}
