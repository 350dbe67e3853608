import DoerCore
import DoerLanguages
import DoerSandbox
import Foundation

/// One run of a strategy's tests on a folder, in the sandbox, on a throw-away view (caches
/// and files the tests write stay out of any diff). The candidates' loops and the check of
/// a winner's evidence run tests the same way.
struct TestRun {
    let strategy: TestStrategy
    let sandbox: any Sandbox
    let configuration: AgentConfiguration

    struct Outcome {
        var report: TestReport
        /// What the run printed, trimmed for a person (the report's summary is for the model).
        var shownOutput: String
        /// All it printed (within the sandbox's output caps), for readers of the whole report.
        var output: String
        var exitCode: Int32
        var durationMs: Double
        /// For a project's tests in other languages: the catalogue's report, test by test.
        var project: ProjectTestReport? = nil
    }

    /// The strategy's command on this copy: with pytest, the test files the project's own
    /// `testpaths` would leave out are named (see `PytestTargets`). When the command names
    /// its targets (Doer's test files and the workspace's test folders), a test file the
    /// model added anywhere else is named too: in an empty workspace with a stated example,
    /// the tests the user asked for would otherwise never run, and could be applied failing.
    func command(for copy: WorkspaceCopy) -> [String] {
        guard strategy.kind == .pytest else { return strategy.command }
        let files = copy.files()
        guard strategy.generatedFiles.isEmpty else {
            let targets = strategy.pytestTargets
            let unnamed = files.filter { path in
                TestStrategy.isPythonTest(path) && !targets.contains { path == $0 || path.hasPrefix($0 + "/") }
                    && !strategy.knownFailures.contains(path)
            }
            return strategy.command + unnamed.sorted()
        }
        return strategy.command + PytestTargets.arguments(files: files, read: { copy.read($0) })
    }

    /// - Parameter command: `command(for: copy)` when the caller has it already (each is a scan of the copy).
    func run(on copy: WorkspaceCopy, command known: [String]? = nil, observer: OutputObserver? = nil) async throws -> Outcome {
        let directory = copy.directory
        let command = known ?? command(for: copy)
        let display = command.joined(separator: " ")
        if strategy.kind == .project { return try await runProjectTests(on: directory, display: display) }
        let result = try await sandbox.run(ExecutionRequest(command: command, workspace: directory,
                                                            environment: strategy.environment, limits: configuration.limits, applyChanges: false),
                                           observingOutput: observer)
        let output = result.stdout.text + result.stderr.text
        let counts = TestStrategy.counts(output, kind: strategy.kind)
        let passedRun = result.succeeded && counts.failed == 0 && counts.passed > 0
        var failureSummary: String? = passedRun ? nil : FailureTrimmer.trim(output)
        if !passedRun, let cause = KilledTestRun.cause(of: result, limits: configuration.limits) {
            let running = cause.comesQuickly ? try await testRunning(whenKilled: command, in: directory) : nil
            failureSummary = KilledTestRun.summary(cause: cause, runningTest: running, output: output)
        }
        let report = TestReport(passed: counts.passed, failed: counts.failed, command: display, failureSummary: failureSummary)
        return Outcome(report: report, shownOutput: FailureTrimmer.trim(output, maxLines: 60), output: output,
                       exitCode: result.termination.shellExitCode, durationMs: result.durationMs)
    }

    /// Which test a killed pytest run was running, from the same run once more in verbose
    /// mode. Only for stops that come quickly (memory, a signal): a run stopped by its time
    /// limit would take all of it again.
    private func testRunning(whenKilled command: [String], in directory: URL) async throws -> String? {
        guard strategy.kind == .pytest, command.contains("pytest") else { return nil }
        let verbose = command.contains("-q") ? command.map { $0 == "-q" ? "-v" : $0 } : command + ["-v"]
        let result = try await sandbox.run(ExecutionRequest(command: verbose, workspace: directory,
                                                            environment: strategy.environment, limits: configuration.limits, applyChanges: false))
        return KilledTestRun.runningTest(inVerboseOutput: result.stdout.text + result.stderr.text)
    }

    /// The workspace's own tests in other languages, built and run through the catalogue,
    /// whose per-test report says exactly what failed (or that it did not compile).
    private func runProjectTests(on directory: URL, display: String) async throws -> Outcome {
        let languages = strategy.languages.compactMap { try? LanguageCatalogue.language(named: $0) }
        let runner = ProjectTestRunner(sandbox: sandbox, cache: configuration.languageCache)
        let report = await runner.run(workspace: directory, languages: languages)
        try Task.checkCancellation()
        let summary = ProjectFailureSummary.text(of: report)
        let passed = report.languages.map(\.passedCount).reduce(0, +)
        // A build failure or crash is a failure even though no single test failed.
        let failed = report.languages.map { $0.outcome == .passed ? 0 : max(1, $0.failedCount) }.reduce(0, +)
        return Outcome(report: TestReport(passed: passed, failed: failed, command: display,
                                          failureSummary: report.passed ? nil : FailureTrimmer.trim(summary ?? "no test ran")),
                       shownOutput: FailureTrimmer.trim(summary ?? "all tests passed", maxLines: 60), output: summary ?? "",
                       exitCode: report.passed ? 0 : 1, durationMs: report.durationMs, project: report)
    }
}
