import ArgumentParser
import DoerCore
import DoerLanguages
import DoerSandbox
import Foundation

struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run a project's tests in the sandbox, every language it has tests in, and report each test.",
        discussion: """
        Languages are found from the files (see `doer languages`). Compile errors and crashes are \
        reported as such, not as failed tests. Exits 0 only when every language's tests passed, \
        1 when something failed, 2 on Doer's own errors.
        """
    )

    @Argument(help: "The project folder (default: the current folder, or --workspace).")
    var directory: String?

    @Option(name: .customLong("language"), help: "Test only these languages (repeatable), e.g. --language go.")
    var languages: [String] = []

    @Option(help: "Languages tested at once.")
    var jobs = 2

    @OptionGroup var options: SandboxOptions

    func validate() throws {
        guard jobs > 0 else { throw ValidationError("--jobs must be positive") }
    }

    func run() async throws {
        do {
            var (_, sandboxConfiguration, limits, workspace) = try options.resolve()
            if let directory {
                workspace = URL(fileURLWithPath: directory, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
                    .standardizedFileURL
            }
            // Test runs get the test defaults unless the flags say otherwise.
            var testLimits = ProjectTestRunner.defaultLimits
            if options.timeout != nil { testLimits.wallClockSeconds = limits.wallClockSeconds }
            if options.memory != nil { testLimits.memoryBytes = limits.memoryBytes }
            // Not the disk limit: what the tests write stays bounded by the one configured
            // ([limits] disk, DOER_DISK) or given, like any other run's.
            testLimits.diskBytes = limits.diskBytes
            let selected = try languages.map { name throws(DoerError) in try LanguageCatalogue.language(named: name) }
            let sandbox = try SandboxFactory(configuration: sandboxConfiguration).make()
            let runner = ProjectTestRunner(sandbox: sandbox, cache: LanguageCache(configuration: sandboxConfiguration),
                                           limits: testLimits, concurrency: jobs)
            let report = await runner.run(workspace: workspace, languages: selected.isEmpty ? nil : selected)
            if options.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                FileHandle.standardOutput.write(try encoder.encode(report) + Data("\n".utf8))
            } else {
                ProjectTestReportPrinter.print(report)
            }
            if report.languages.isEmpty {
                if !options.json { FileHandle.standardError.write(Data("doer: no tests found in \(workspace.path)\n".utf8)) }
                throw ExitCode(1)
            }
            throw ExitCode(report.passed ? 0 : 1)
        } catch let error as DoerError {
            fail(error)
        }
    }
}

enum ProjectTestReportPrinter {
    static func print(_ report: ProjectTestReport) {
        for language in report.languages {
            let counts = "\(language.passedCount) passed, \(language.failedCount) failed"
                + (language.skippedCount > 0 ? ", \(language.skippedCount) skipped" : "")
            Swift.print("\(language.language) (\(language.framework)): \(language.outcome.rawValue) — \(counts), "
                + String(format: "%.1f s", language.durationMs / 1000))
            for test in language.tests where test.status != .passed {
                let name = [test.suite, test.name].compactMap { $0 }.joined(separator: " › ")
                Swift.print("  \(test.status.rawValue.uppercased()) \(name)")
                if let message = test.message {
                    for line in message.split(separator: "\n", omittingEmptySubsequences: false).prefix(12) {
                        Swift.print("      \(line)")
                    }
                }
            }
            if let detail = language.detail {
                for line in detail.split(separator: "\n", omittingEmptySubsequences: false).suffix(30) {
                    Swift.print("  | \(line)")
                }
            }
        }
        let total = report.languages.reduce(0) { $0 + $1.tests.count }
        Swift.print(report.passed ? "all \(total) tests passed" : "\(report.failures.count) of \(total) tests did not pass"
            + (report.languages.contains { $0.outcome != .passed && $0.outcome != .failed } ? "; see the notes above" : ""))
    }
}
