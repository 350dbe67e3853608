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
        // Answered before the parser is built: building it reflects over every command and
        // option (each a scan of the binary's protocol conformances), most of what
        // `doer --version` cost (`doer bench cli`). The same line argument-parser prints.
        if CommandLine.arguments.dropFirst().elementsEqual(["--version"]) {
            print(BuildInfo.versionLine)
            return
        }
        LoggingSetup.bootstrap()
        await main(nil)
    }
}
