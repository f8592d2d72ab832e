import ArgumentParser
import Core
import Foundation
import ServiceLifecycle
import Hummingbird
import Logging
import Metrics
import Prometheus

@main
struct KMSCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "kms",
            abstract: "Machine identity and AWS access platform.",
            subcommands: [Serve.self, Migrate.self, Bootstrap.self, Login.self, Projects.self, Users.self, Identities.self, DynamicSecrets.self, Leases.self]
                + PluginList.commands.flatMap(\.commands) + [Audit.self, AgentCommand.self, Version.self])
    }
}

/// Flags shared by the commands that open storage; they override the environment.
struct StorageOptions: ParsableArguments {
    @Option(help: "Postgres URL (postgres://user:pass@host:port/db); default: embedded SQLite") var databaseURL: String?
    @Option(help: "Directory of the embedded store and its generated key") var dataDir: String?

    func config() throws -> KMSConfig {
        var config = try KMSConfig.load()
        if let databaseURL { config.databaseURL = databaseURL }
        if let dataDir { config.dataDir = dataDir }
        return config
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP server (applies pending migrations first).")
    @OptionGroup var storage: StorageOptions
    @Option(help: "Listen address") var host: String?
    @Option(help: "Listen port (0 picks a free one)") var port: Int?

    func run() async throws {
        var config = try storage.config()
        if let host { config.host = host }
        if let port { config.port = port }
        LoggingSetup.bootstrap(format: config.logFormat, level: config.logLevel)
        let logger = Logger(label: "kms")
        let metrics = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics))
        let runtime = try await Runtime.open(config: config, logger: logger, metrics: metrics)
        let store = config.usesPostgres ? "postgres" : "sqlite"
        // Background services start once the schema is migrated; the pool and the token cache
        // listener run from the start (the migration needs the pool).
        let gate = StartGate()
        var app = Application(
            router: try runtime.builder.buildRouter(),
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "kms"),
            services: runtime.storageServices + (try runtime.builder.services()).map(gate.hold),
            onServerRunning: { channel in
                logger.info("kms ready", metadata: ["address": "\(channel.localAddress?.description ?? "?")",
                                                   "port": "\(channel.localAddress?.port ?? 0)", "store": "\(store)"])
            },
            logger: logger)
        app.beforeServerStarts {
            _ = try await runtime.migrate()
            gate.open()
        }
        // SIGTERM and SIGINT shut down gracefully: in-flight requests finish. Past 10 s the
        // group cancels what is left, and past 13 s the watchdog ends the process, so nothing
        // stuck on a dead upstream can keep it from exiting.
        let watchdog = ShutdownWatchdog(limit: .seconds(13), logger: logger)
        var group = ServiceGroupConfiguration(services: [.init(service: app), .init(service: watchdog, successTerminationBehavior: .ignore)],
                                              gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(10)
        do {
            try await ServiceGroup(configuration: group).run()
        } catch {
            watchdog.disarm()
            await runtime.close()
            throw error
        }
        watchdog.disarm()
        await runtime.close()
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending migrations and exit.")
    @OptionGroup var storage: StorageOptions

    func run() async throws {
        let config = try storage.config()
        LoggingSetup.bootstrap(format: "text", level: "warning")
        let runtime = try await Runtime.open(config: config, logger: Logger(label: "kms"))
        let applied = try await runtime.withStorage { try await runtime.migrate() }
        print(applied.isEmpty ? "schema is up to date" : applied.map { "applied \($0.owner) v\($0.version): \($0.name)" }.joined(separator: "\n"))
    }
}

struct Bootstrap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Initialise the instance once and print the admin identity's token.",
        discussion: "The password may come from KMS_BOOTSTRAP_PASSWORD instead of the flag, to keep it out of the process list.")
    @OptionGroup var storage: StorageOptions
    @Option(help: "The admin user's e-mail") var email: String
    @Option(help: "The admin user's password (or KMS_BOOTSTRAP_PASSWORD)") var password: String?
    @Option(help: "The first organization's name") var organization: String
    @Flag(help: "Print the full JSON answer") var json = false

    func run() async throws {
        let config = try storage.config()
        LoggingSetup.bootstrap(format: "text", level: "warning")
        guard let password = password ?? ProcessInfo.processInfo.environment["KMS_BOOTSTRAP_PASSWORD"] else {
            throw ValidationError("--password or KMS_BOOTSTRAP_PASSWORD is required")
        }
        let runtime = try await Runtime.open(config: config, logger: Logger(label: "kms"))
        let (email, organization) = (self.email, self.organization)
        do {
            let result = try await runtime.withStorage {
                _ = try await runtime.migrate()
                return try await Bootstrapper(platform: runtime.platform).bootstrap(
                    email: email, password: password, organization: organization, request: RequestInfo(clientIP: nil, userAgent: "kms-cli"))
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                print("organization: \(result.organization.name) (\(result.organization.id))")
                print("admin user:   \(result.user.email)")
                print("admin token:  \(result.identity.credentials["token"] ?? "")")
                print("This token is shown once; store it safely.")
            }
        } catch let error as APIError {
            throw CleanExit.message("error: \(error.message)")
        }
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")
    func run() { print("kms \(KMSVersion.current)") }
}
