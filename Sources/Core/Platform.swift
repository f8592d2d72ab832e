import Foundation
import Logging

/// Everything Core offers to routes and plugins, built once at start-up and handed out by
/// constructor injection. A plugin sees only this, never the host's configuration or drivers.
public struct Platform: Sendable {
    public let database: any Database
    public let clock: TimeSource
    public let logger: Logger
    public let sealer: Sealer
    public let passwords: PasswordHasher
    public let tokens: TokenService
    public let audit: AuditLog
    public let tenants: TenantStore
    public let identities: IdentityStore
    public let projects: ProjectStore
    public let invitations: InvitationStore
    /// Which organizations may act through the server's own AWS identity.
    public let ambientAWS: AmbientAWSPolicy
    public let authorizer: Authorizer
    /// This server's public URL, for links and the console federation `Issuer`.
    public let publicURL: String

    public init(database: any Database, sealer: Sealer, clock: TimeSource = .system, logger: Logger,
                passwords: PasswordHasher = PasswordHasher(), publicURL: String, ambientAWS: AmbientAWSPolicy = AmbientAWSPolicy(),
                failureBudget: FailureAuditBudget = FailureAuditBudget()) {
        self.database = database
        self.clock = clock
        self.logger = logger
        self.sealer = sealer
        self.passwords = passwords
        self.publicURL = publicURL
        self.ambientAWS = ambientAWS
        tokens = TokenService(database: database, clock: clock)
        audit = AuditLog(database: database, clock: clock, logger: logger, failureBudget: failureBudget)
        tenants = TenantStore(database: database, clock: clock)
        identities = IdentityStore(database: database, clock: clock)
        projects = ProjectStore(database: database, clock: clock)
        invitations = InvitationStore(database: database, clock: clock)
        authorizer = Authorizer(tenants: tenants, projects: projects, audit: audit)
    }
}
