import ArgumentParser
import CLISupport
import Core

/// `kms login ...`: obtain an access token from a running server. `user` is Core's; every other
/// subcommand comes from the login method's own plugin.
struct Login: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(abstract: "Log in to a kms server and print an access token.",
                             subcommands: [LoginUser.self] + PluginList.commands.flatMap(\.loginCommands))
    }
}
