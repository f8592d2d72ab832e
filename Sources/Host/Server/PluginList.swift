import AuditStreams
import AuthAWS
import AuthLDAP
import AuthOIDC
import AuthToken
import CLISupport
import AuthUniversal
import Console
import Core
import DynamicAWSIAM
import PAMAWSConsole

/// The plugins this build of `kms` runs. Adding a provider is one folder plus one line here.
enum PluginList {
    static let all: [any KMSPlugin] = [
        AuthTokenPlugin(),
        AuthAWSPlugin(),
        AuthUniversalPlugin(),
        AuthOIDCPlugin(),
        AuthLDAPPlugin(),
        DynamicAWSIAMPlugin(),
        PAMAWSConsolePlugin(),
        AuditStreamsPlugin(),
        ConsolePlugin(),
    ]

    /// The plugins that add CLI commands.
    static var commands: [any PluginCommands] { all.compactMap { $0 as? any PluginCommands } }
}
