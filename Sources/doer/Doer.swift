import ArgumentParser

@main
struct Doer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doer",
        abstract: "An autonomous coding agent that runs everything it writes in a hardened sandbox.",
        version: BuildInfo.versionLine,
        subcommands: [ChatCommand.self, ExecCommand.self, ServeCommand.self, TokenCommand.self, McpCommand.self, SessionsCommand.self, ResumeCommand.self, UndoCommand.self, RunCommand.self, TestCommand.self, LanguagesCommand.self, SandboxCommand.self, BenchCommand.self, ConfigCommand.self, ModelCommand.self, AuditCommand.self, StoreCommand.self, DeployCommand.self, VersionCommand.self]
    )

    static func main() async {
        LoggingSetup.bootstrap()
        await main(nil)
    }
}
