import DoerCore
import DoerModels
import DoerSandbox
import Foundation

/// A second reading of the request, written apart from every candidate's code.
///
/// A pass whose only red → green tests are the model's own shows that the model's code
/// agrees with the model's tests: both come from one conversation and one reading of the
/// request. A small model often reads it wrong in both — a human-readable list joined as
/// `'apple,bananaand cherry'`, and a test asserting exactly that. So such a pass must also
/// pass a test the model writes in a fresh conversation that sees the request and the code
/// as it was, never a candidate's change; that test must fail on the code as it was, or it
/// shows nothing. It is written once per run and shared by the candidates. A test that
/// shows nothing (it passes on the old code, or does not import) is asked for once more,
/// with the reason; past that, the pass stays unproven.
///
/// An empty workspace is no exception: "Create wordcount.py … ties in alphabetical order.
/// Add tests." gets code that ignores the tie rule and tests that never try it, both green.
/// There the writer sees the request and the names of the files the code went into and of
/// what they define (to import them), nothing of their content — as it does for new code in
/// a project; failing on the workspace as it was is a given.
///
/// For pytest, `node --test` and `go test` (`Runner`): their reports name each test
/// (`NodeTestReport` and `GoTestIDs` find the file), so "red before" and "green after" are
/// read test by test.
actor IndependentTest {
    enum Verdict: Equatable {
        /// The winner passes the test, which failed on the code as it was: its failing ids,
        /// and the test's text.
        case agrees(ids: [String], test: String)
        /// The winner fails it: the report's failure lines.
        case disagrees(String)
        /// No test that shows anything could be had: why.
        case unavailable(String)
    }

    let task: String
    let workspace: URL
    let strategy: TestStrategy
    let provider: any ModelProvider
    let sandbox: any Sandbox
    let configuration: AgentConfiguration
    let repository: RepositoryContext?
    let runner: Runner
    /// Model calls this test may take: the first writing and one rewrite.
    static let attempts = 2

    /// The test being written, or written: candidates that pass at once share it.
    private var current: Task<String?, Never>?
    private var attemptsMade = 0
    /// Why the last test showed nothing, for the next writer and the verdict.
    private var lastProblem: String?
    /// Where the first winner put new code, and its names.
    private var newCode: [NewCode] = []
    /// For Go: the package the test file declares (that of the code in its folder).
    private var goPackage: String?

    init(task: String, workspace: URL, strategy: TestStrategy, provider: any ModelProvider, sandbox: any Sandbox,
         configuration: AgentConfiguration, repository: RepositoryContext?) {
        self.task = task
        self.workspace = workspace
        self.strategy = strategy
        self.provider = provider
        self.sandbox = sandbox
        self.configuration = configuration
        self.repository = repository
        self.runner = Runner(strategy) ?? .pytest
    }

    static func applies(to strategy: TestStrategy) -> Bool { Runner(strategy) != nil }

    /// Judges the winner's copy: the test goes in `folder` (where the winner's own passing
    /// test is, so it imports the code the way that one does), runs on the workspace as it
    /// was and on the winner. Candidates that pass at once wait for one another here, so the
    /// test is written once.
    /// Code the winner added, by name only: a new file, or new definitions in a file.
    struct NewCode: Sendable, Equatable {
        var path: String
        var isNewFile: Bool
        var names: [String]
        /// How a test imports it (`pkg.stats`), when the file is under an import root.
        var module: String?
    }

    /// - Parameter newCode: where the winner's new code is and what it is called: the writer
    ///   needs the names to import it (and sees nothing else of it).
    func judge(winner: WorkspaceCopy, folder: String, newCode: [NewCode] = []) async -> Verdict {
        if self.newCode.isEmpty { self.newCode = newCode }
        // The winner's package, in a folder the workspace did not have: a name, not its reading.
        if runner == .go && goPackage == nil { goPackage = GoSource.package(in: folder, files: winner.files(), read: winner.read) }
        let path = Self.path(in: folder, avoiding: Set(winner.files()), runner: runner)
        while let content = await test(path: path) {
            if Task.isCancelled { return .unavailable("cancelled") }
            switch await run(content, at: path, winner: winner) {
            case .judged(let verdict):
                return verdict
            case .unusable(let why):
                lastProblem = why
                current = nil
            }
        }
        return .unavailable(lastProblem ?? "no test was written")
    }

    /// The shared test, written on first use; nil once every attempt is spent.
    private func test(path: String) async -> String? {
        while true {
            if let current {
                if let content = await current.value { return content }
                self.current = nil
            }
            guard attemptsMade < Self.attempts, !Task.isCancelled else { return nil }
            attemptsMade += 1
            let writing = Task { await self.write(path: path) }
            current = writing
            if let content = await writing.value { return content }
            if current == writing { current = nil }
        }
    }

    /// `tests/test_request_check.py` (`request_check.test.js` for node, `request_check_test.go`
    /// for Go), or with a number when the workspace has that name.
    static func path(in folder: String, avoiding taken: Set<String>, runner: Runner = .pytest) -> String {
        let prefix = folder.isEmpty ? "" : folder + "/"
        func name(_ suffix: String) -> String { prefix + runner.fileName(numbered: suffix) }
        var chosen = name("")
        var number = 2
        while taken.contains(chosen) {
            chosen = name("_\(number)")
            number += 1
        }
        return chosen
    }

    // MARK: - Writing

    private func write(path: String) async -> String? {
        let before: WorkspaceCopy
        do {
            before = try WorkspaceCopy(copying: workspace, stagingRoot: configuration.stagingRoot)
        } catch {
            lastProblem = "could not copy the workspace: \(error.description)"
            return nil
        }
        defer { before.discard() }
        let budget = ContextBudget(window: configuration.contextWindow ?? provider.contextWindow, reply: configuration.maxTokensPerTurn)
        var imports = Self.importExample(in: before, near: path, runner: runner)
        if runner == .go, let goPackage, !imports.contains("package \(goPackage)") {
            imports = "package \(goPackage)\n\nimport \"testing\""
        }
        let system = runner.system
        let bare = PromptBuilder.independentTestRequest(task, path: path, imports: imports, files: "", newCode: newCode, problem: lastProblem,
                                                        language: runner.fence)
        let room = budget.remaining(after: TokenEstimate.tokens([.system(system), .user(bare)]))
        let files = await repository?.files(of: before, hiding: [], tokens: room).text ?? ""
        let request = ModelRequest(
            messages: [.system(system),
                       .user(PromptBuilder.independentTestRequest(task, path: path, imports: imports, files: files, newCode: newCode,
                                                                  problem: lastProblem, language: runner.fence))],
            temperature: 0, seed: configuration.seed &- 2000 &- attemptsMade, maxTokens: configuration.maxTokensPerTurn)
        guard let reply = try? await provider.complete(request) else {
            lastProblem = "the model did not answer"
            return nil
        }
        guard let content = Self.testFile(in: reply.text, path: path, runner: runner) else {
            lastProblem = "the reply held no test file with a test function"
            return nil
        }
        if runner == .go { return GoImports.tidied(content, package: goPackage, isTest: true) ?? content }
        return content
    }

    /// The test file of a reply: the block written to `path`, or else the one test file of
    /// the same language it writes (under any name), or a bare block.
    static func testFile(in reply: String, path: String, runner: Runner = .pytest) -> String? {
        let writes = ActionParser(targetFile: path).parse(reply).actions.compactMap { action -> (path: String, content: String)? in
            if case .writeFile(let written, let content) = action, runner.writes(written) { return (written, content) }
            return nil
        }
        let chosen = writes.first { $0.path == path } ?? (writes.count == 1 ? writes[0] : writes.first { TestFiles.isTest($0.path) })
        guard let content = chosen?.content, runner.hasTest(content) else { return nil }
        return content
    }

    /// The import lines of a test the workspace already has, nearest to `path` first, so
    /// the writer imports the code the way the project's tests do.
    static func importExample(in copy: WorkspaceCopy, near path: String, runner: Runner = .pytest) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        // A Go test reaches its package's code only from that package's folder.
        let tests = copy.files().filter { runner.isTest($0) && (runner != .go || ($0 as NSString).deletingLastPathComponent == folder) }
            .sorted { ($0.hasPrefix(folder) ? 0 : 1, $0) < ($1.hasPrefix(folder) ? 0 : 1, $1) }
        for test in tests.prefix(5) {
            guard let text = copy.read(test) else { continue }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                .filter(runner.isImportLine).prefix(8)
            if !lines.isEmpty { return (runner == .go ? "// " : "# ") + test + "\n" + lines.joined(separator: "\n") }
        }
        return ""
    }

    // MARK: - Running

    private enum RunResult {
        case judged(Verdict)
        case unusable(String)
    }

    private func run(_ content: String, at path: String, winner: WorkspaceCopy) async -> RunResult {
        // The candidate's own pytest configuration and conftest.py files are not the judge's:
        // a hook there could pass any test. The project's, as they were, are.
        let configuration = runner != .pytest ? [] : winner.changes().map(\.path).filter { path in
            let name = (path as NSString).lastPathComponent
            return name == "conftest.py" || TestConfiguration.sections[name] != nil
        }
        guard let before = await outcome(of: content, at: path, copying: workspace),
              let after = await outcome(of: content, at: path, copying: winner.directory, restoring: configuration) else {
            return .judged(.unavailable("the test of the request could not be run"))
        }
        let file = path
        let onlyCollectionErrors = { (outcome: Outcome) in
            outcome.result.passed.isEmpty && !outcome.result.failed.isEmpty && outcome.result.failed.allSatisfy { $0 == file }
        }
        // A Go test that does not build with the change says nothing of the code: its compiler's
        // errors go to the next writer. (Before the change it may not build for want of the
        // new code, or of any module at all: that is a given, not its fault.)
        if runner == .go && onlyCollectionErrors(after) {
            return .unusable("the test did not compile with the change:\n" + after.failures)
        }
        // With the change is what the writer can mend: that run's errors, else the other's.
        if onlyCollectionErrors(before) && onlyCollectionErrors(after) {
            return .unusable("the test file did not run, on the code as it was nor with the change:\n"
                             + (after.failures.isEmpty ? before.failures : after.failures))
        }
        if before.result.failed.isEmpty {
            return .unusable("every test passed on the code as it is now, so none of them tests what the request asks for")
        }
        if !after.result.failed.isEmpty || after.result.passed.isEmpty {
            return .judged(.disagrees(after.failures.isEmpty ? "no test passed" : after.failures))
        }
        return .judged(.agrees(ids: before.result.failed.sorted(), test: content))
    }

    private struct Outcome {
        var result: CrossCheck.Outcome
        /// The report's FAILED and ERROR lines, with why.
        var failures: String
    }

    /// The test alone, on a throw-away copy of `directory` with `restoring` put back as the
    /// workspace had them (removed when it had none); nil when the run did not finish.
    private func outcome(of content: String, at path: String, copying directory: URL, restoring: [String] = []) async -> Outcome? {
        guard let copy = try? WorkspaceCopy(copying: directory, stagingRoot: configuration.stagingRoot) else { return nil }
        defer { copy.discard() }
        for restored in restoring {
            if let original = WorkspaceCopy.read(restored, in: workspace) {
                guard (try? copy.write(restored, original)) != nil else { return nil }
            } else {
                copy.remove(restored)
            }
        }
        guard (try? copy.write(path, content)) != nil else { return nil }
        for (plugin, source) in strategy.pytestPlugins {
            guard (try? copy.write(plugin, source)) != nil else { return nil }
        }
        if runner == .go {
            return await Self.goOutcome(of: content, at: path, in: copy, sandbox: sandbox, cache: configuration.languageCache)
                .map { Outcome(result: $0.result, failures: $0.failures) }
        }
        let command = runner == .node ? ["node", "--test", path]
            : ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=short", "-rA"] + strategy.pluginArguments
                + ["--continue-on-collection-errors", path]
        let environment = strategy.environment.merging(["COLUMNS": "1000"]) { $1 }
        guard let result = try? await sandbox.run(ExecutionRequest(command: command, workspace: copy.directory, environment: environment,
                                                                   limits: configuration.limits, applyChanges: false)),
              !result.timedOut, result.termination == .exited(0) || result.termination == .exited(1) else { return nil }
        let output = result.stdout.text + "\n" + result.stderr.text
        if runner == .node {
            return Outcome(result: NodeTestReport.outcome(of: output, file: path, roots: [copy.directory.path]),
                           failures: NodeTestReport.failureLines(in: output))
        }
        let failures = output.split(separator: "\n")
            .filter { $0.hasPrefix("FAILED ") || $0.hasPrefix("ERROR ") || $0.hasPrefix("E ") }
            .prefix(12).map { String($0.prefix(400)) }.joined(separator: "\n")
        return Outcome(result: CrossCheck.outcome(of: output), failures: failures)
    }
}
