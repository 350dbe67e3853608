public import DoerCore
public import DoerSandbox
public import Foundation

/// Finds the languages of a project that have tests and runs each one's tests in the
/// sandbox, returning one structured report.
///
/// ```swift
/// let sandbox = try SandboxFactory(configuration: configuration).make()
/// let runner = ProjectTestRunner(sandbox: sandbox, cache: LanguageCache(configuration: configuration))
/// let report = await runner.run(workspace: projectURL)
/// for (language, test) in report.failures { print(language, test.name, test.message ?? "") }
/// ```
public struct ProjectTestRunner: Sendable {
    public let sandbox: any Sandbox
    public let cache: LanguageCache
    /// Limits of test steps; build steps get at least `LanguageStepRunner.buildLimits`.
    public var limits: ResourceLimits
    /// Languages tested at once.
    public var concurrency: Int

    /// Test runs get more time and room than a single program: JVMs and compilers start slowly.
    public static let defaultLimits = ResourceLimits(wallClockSeconds: 300, cpuSeconds: 600, memoryBytes: 2 << 30,
                                                     processes: 512)

    public init(sandbox: any Sandbox, cache: LanguageCache, limits: ResourceLimits = ProjectTestRunner.defaultLimits,
                concurrency: Int = 2) {
        self.sandbox = sandbox
        self.cache = cache
        self.limits = limits
        self.concurrency = max(1, concurrency)
    }

    /// Tests every language of `workspace` that has tests (or only `languages` when given).
    public func run(workspace: URL, languages: [Language]? = nil) async -> ProjectTestReport {
        let started = ContinuousClock.now
        let selected = languages ?? LanguageCatalogue.languagesWithTests(in: ProjectFiles.list(workspace))
        var reports: [Int: LanguageTestReport] = [:]
        await withTaskGroup(of: (Int, LanguageTestReport).self) { group in
            var next = 0
            func startNext() {
                guard next < selected.count else { return }
                let index = next, language = selected[index]
                next += 1
                group.addTask { (index, await self.run(language, workspace: workspace)) }
            }
            for _ in 0..<concurrency { startNext() }
            for await (index, report) in group {
                reports[index] = report
                startNext()
            }
        }
        return ProjectTestReport(languages: selected.indices.compactMap { reports[$0] },
                          durationMs: (ContinuousClock.now - started).milliseconds)
    }

    /// Builds and tests one language of `workspace`; every problem becomes part of the report.
    public func run(_ language: Language, workspace: URL) async -> LanguageTestReport {
        let started = ContinuousClock.now
        func report(_ outcome: LanguageTestReport.Outcome, _ tests: [TestCaseResult] = [], detail: String? = nil) -> LanguageTestReport {
            LanguageTestReport(language: language.name, framework: language.test?.framework ?? "-", outcome: outcome,
                               tests: tests, detail: detail, durationMs: (ContinuousClock.now - started).milliseconds)
        }
        guard let recipe = language.test else {
            return report(.noTests, detail: "Doer does not know how to test \(language.displayName)")
        }
        let missing = language.toolchain.missing(recipe.requirements)
        if !missing.isEmpty {
            return report(.toolchainMissing, detail: LanguageToolchains.missingError(language, missing).description)
        }
        do {
            let folders = try cache.folders(for: language, workspace: workspace)
            let steps = LanguageStepRunner(sandbox: sandbox, language: language, folders: folders, workspace: workspace)
            for step in recipe.build {
                let result = try await steps.run(step, limits: limits)
                if result.timedOut {
                    return report(.crashed, detail: "the build timed out after \(Int(LanguageStepRunner.buildLimits(limits).wallClockSeconds)) s\n" + Self.output(result))
                }
                if !result.succeeded {
                    return report(.buildFailed, detail: Self.output(result))
                }
            }
            let result = try await steps.run(recipe.test, limits: limits)
            let parsed = recipe.format.parse(result.stdout.text)
            return report(Self.outcome(result, parsed), parsed.tests, detail: Self.detail(result, parsed))
        } catch {
            return report(.crashed, detail: error.description)
        }
    }

    static func outcome(_ result: ExecutionResult, _ parsed: ParsedTests) -> LanguageTestReport.Outcome {
        if result.timedOut || result.memoryKilled || !parsed.crashes.isEmpty { return .crashed }
        if case .signaled = result.termination { return .crashed }
        if case .failedToStart = result.termination { return .crashed }
        if parsed.tests.isEmpty { return result.succeeded ? .noTests : .crashed }
        if parsed.tests.contains(where: { $0.status == .failed || $0.status == .errored }) { return .failed }
        return result.succeeded ? .passed : .crashed
    }

    static func detail(_ result: ExecutionResult, _ parsed: ParsedTests) -> String? {
        var lines = parsed.crashes
        if result.timedOut { lines.append("the tests timed out") }
        if result.memoryKilled { lines.append("the tests went over their memory limit") }
        switch outcome(result, parsed) {
        case .crashed:
            if case .failedToStart(let why) = result.termination { lines.append(why) }
            if parsed.tests.isEmpty || parsed.crashes.isEmpty { lines.append(output(result)) }
            return lines.joined(separator: "\n").trimmedMessage(limit: 4000)
        default:
            return lines.isEmpty ? nil : lines.joined(separator: "\n")
        }
    }

    /// A step's output for a person: the end of stderr and stdout, where compilers and crashes report.
    public static func output(_ result: ExecutionResult) -> String {
        let text = [result.stderr.text, result.stdout.text].filter { !$0.isEmpty }.joined(separator: "\n")
        var trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.count > 4000 { trimmed = "[…]\n" + String(trimmed.suffix(4000)) }
        switch result.termination {
        case .exited(0): break
        case .exited(let code): trimmed += "\n(exit status \(code))"
        case .signaled(let signal): trimmed += "\n(killed by signal \(signal)\(Signals.name(Int(signal))))"
        case .failedToStart(let why): trimmed += "\n(did not start: \(why))"
        }
        for warning in result.warnings { trimmed += "\n(\(warning))" }
        return trimmed
    }
}
