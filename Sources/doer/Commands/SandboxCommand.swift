import ArgumentParser
import DoerConfig
import DoerCore
import DoerSandbox
import DoerStore
import Foundation

struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run a command in the sandbox, or check which sandbox backends work here.",
        subcommands: [Exec.self, Check.self, Registries.self],
        defaultSubcommand: Exec.self
    )
}

extension SandboxCommand {
    struct Exec: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "exec",
            abstract: "Run a command in the sandbox: doer sandbox [options] -- CMD ARGS…",
            discussion: "The command starts in the workspace (mounted at /workspace). Exits with its exit code."
        )

        @OptionGroup var options: SandboxOptions

        @Argument(parsing: .postTerminator, help: "The command to run, after --.")
        var command: [String] = []

        func validate() throws {
            if command.isEmpty { throw ValidationError("give the command after --, e.g. doer sandbox -- python3 -c 'print(1)'") }
        }

        func run() async throws {
            do {
                var (configuration, sandboxConfiguration, limits, workspace) = try options.resolve()
                // One run per process: a sandbox kept for a next run would only be reset and ended at exit.
                sandboxConfiguration.runsPerSandbox = 1
                let network = try options.networkPolicy(configuration)
                options.announce(network)
                let sandbox = try SandboxFactory(configuration: sandboxConfiguration).make()
                let result = try await sandbox.run(ExecutionRequest(
                    command: command, workspace: workspace, stdin: StandardInput.readIfPiped(),
                    limits: limits, mode: options.mode, network: network, applyChanges: !options.discardChanges))
                try AuditSupport.recorder(configuration, session: nil).recordSandboxRun(command: command, workspace: workspace, result: result)
                ResultPrinter.show(result, json: options.json)
                throw ExitCode(result.commandExitCode)
            } catch let error as DoerError {
                fail(error)
            }
        }
    }
}

extension SandboxCommand {
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Report which sandbox backends work on this machine, and why the others do not."
        )

        @Flag(name: .long, help: "Print the report as JSON.")
        var json = false

        func run() async throws {
            let options = try SandboxOptions.parse([])
            let sandboxConfiguration: SandboxConfiguration
            do {
                sandboxConfiguration = try options.resolve().1
            } catch {
                fail(error)
            }
            let reports = await SandboxCheck(configuration: sandboxConfiguration).run()
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                FileHandle.standardOutput.write(try encoder.encode(reports) + Data("\n".utf8))
            } else {
                for report in reports {
                    print("\(report.backend.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(report.works ? "works" : "unavailable")  \(report.detail)")
                }
            }
            let defaultWorks = reports.first { $0.backend == sandboxConfiguration.backend }?.works ?? false
            if !defaultWorks { throw ExitCode(1) }
        }
    }
}

extension SandboxCommand {
    struct Registries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "registries",
            abstract: "List the package registries `--net registries` allows, found in this host's pip and apt configuration now."
        )

        @Flag(name: .long, help: "Print the list as JSON.")
        var json = false

        func run() async throws {
            let configuration: DoerConfiguration
            do {
                configuration = try DoerConfiguration.load()
            } catch {
                fail(error)
            }
            let found = RegistryDiscovery().discover()
            var rows = found.registries.map { (host: $0.host, source: $0.source) }
            rows += configuration.networkRegistries.map { (host: $0, source: "[network] registries in config.toml") }
            var seen = Set<String>()
            rows = rows.filter { seen.insert($0.host + "\u{0}" + $0.source).inserted }
            if json {
                let object: [String: Any] = [
                    "registries": rows.map { ["host": $0.host, "source": $0.source] },
                    "pip_environment": found.pipEnvironment,
                ]
                FileHandle.standardOutput.write(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) + Data("\n".utf8))
                return
            }
            if rows.isEmpty {
                print("no package registry found in this host's pip or apt configuration; add hosts with [network] registries in config.toml")
                return
            }
            let width = rows.map(\.host.count).max() ?? 0
            for row in rows { print("\(row.host.padding(toLength: width, withPad: " ", startingAt: 0))  \(row.source)") }
        }
    }
}
