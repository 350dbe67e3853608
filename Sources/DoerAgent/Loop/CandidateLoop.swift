import DoerCore
import DoerLanguages
import DoerModels
import DoerSandbox
import Foundation
import Logging

/// One candidate's plan → execute → reflect loop on its own workspace copy.
struct CandidateLoop: Sendable {
    let index: Int
    let task: String
    let strategy: TestStrategy
    /// The model-written plan, when there is one, to keep every turn on it.
    let plan: Plan?
    /// Where an earlier run of the session left this candidate (its files are already
    /// replayed on the copy).
    let resumed: ResumePoint.CandidateState?
    let projectInstructions: String?
    let provider: any ModelProvider
    let sandbox: any Sandbox
    let configuration: AgentConfiguration
    let copy: WorkspaceCopy
    let emit: @Sendable (AgentEvent) -> Void
    /// Whether the shared token/time budget still allows another turn.
    let budgetLeft: @Sendable () async -> Bool
    /// The workspace's index and what the request points at; without one, turns show the
    /// small files, smallest first.
    var repository: RepositoryContext? = nil
    /// The model's context window: every prompt fits in it.
    var context = ContextBudget(window: nil, reply: 1536)
    /// When set, passing tests end the loop only with evidence that the request was done (a
    /// test red on the workspace as it was); a pass the model can still mend — only tests
    /// changed, or tests that passed before too — is sent back to it as a failure.
    var evidence: RequestEvidence? = nil
    /// The workspace's files before the run, for the evidence.
    var originalFiles: [String] = []

    enum Outcome: Sendable {
        /// `evidence` is what the loop found when it checked (nil: not checked).
        case passed(iterations: Int, evidence: ChangeEvidence?)
        case gaveUp(RunSummary.Outcome, iterations: Int, reason: String)
    }

    private var parser: ActionParser { ActionParser(targetFile: Planner.targetFile(of: task)) }

    func run() async throws -> Outcome {
        for (path, content) in strategy.writtenFiles { try copy.write(path, content) }
        let hidden = Set(strategy.writtenFiles.keys)
        var best = BestAttempt()
        var starting = StartingFiles()
        var touched = Set((resumed?.actions ?? []).compactMap(\.writtenPath))
        /// Ends the candidate with its best attempt's files in the copy (recorded as writes).
        func giveUp(_ outcome: RunSummary.Outcome, iterations: Int, reason: String) throws -> Outcome {
            let restored = try best.restore(into: copy)
            for write in restored { emit(.action(candidate: index, write)) }
            guard !restored.isEmpty else { return .gaveUp(outcome, iterations: iterations, reason: reason) }
            return .gaveUp(outcome, iterations: iterations,
                           reason: reason + "; kept attempt \(best.iteration), which passed \(best.passed) of \(best.passed + best.failed) tests")
        }
        // Small models have small context windows: each turn sends the task, a one-line
        // note of the previous reply, and the latest feedback with the current files,
        // never the whole history; the files shown are what fits in the window.
        let system = PromptBuilder.system(projectInstructions: projectInstructions)
        let fixed = TokenEstimate.tokens([.system(system), .user(PromptBuilder.task(task, files: "", strategy: strategy, plan: plan))],
                                         tools: tools)
        var seen = SeenCode()
        let openingFiles = await files(hiding: hidden, tokens: context.openingFiles(besides: fixed), seen: &seen)
        let opening: [ChatMessage] = [
            .system(system),
            .user(PromptBuilder.task(task, files: openingFiles, strategy: strategy, plan: plan)),
        ]
        var messages = opening
        var lastSignature: String?
        /// The last turn's feedback (the failure and the files): a reply that acted on nothing
        /// gets it again with the note, or the next turn would see only the opening files.
        var lastFeedback: String?
        /// Set once a greedy candidate failed the same way twice: its later turns are sampled warm.
        var stuck = false
        var lastFailure: String?
        if let resumed, !resumed.actions.isEmpty, strategy.hasTests(copy.files()) {
            // The restored files may already pass (the run was stopped before approval, or
            // during its last test run): check before spending a model turn.
            emit(.candidateStatus(candidate: index, status: .testing(iteration: 0)))
            let report = try await runTests()
            emit(.testReport(candidate: index, iteration: 0, report: report))
            if report.succeeded { return .passed(iterations: 0, evidence: nil) }
            best.consider(report, iteration: 0, copy: copy, touched: touched)
            let failure = report.failureSummary ?? "no test passed"
            lastSignature = FailureTrimmer.signature(failure)
            messages.append(.user(PromptBuilder.note(of: resumed.actions, reply: "")))
            let room = context.remaining(after: TokenEstimate.tokens(messages + [.user(PromptBuilder.reflection(failure: failure, files: ""))], tools: tools))
            messages.append(.user(PromptBuilder.reflection(failure: failure, files: await files(hiding: hidden, touched: touched, tokens: room,
                                                                                                failure: failure, seen: &seen))))
        }
        for iteration in 1...configuration.maxIterations {
            try Task.checkCancellation()
            guard await budgetLeft() else {
                return try giveUp(.budgetExhausted, iterations: iteration - 1, reason: "the token or time budget ran out")
            }
            emit(.candidateStatus(candidate: index, status: .generating(iteration: iteration)))
            let reply = try await generate(messages, iteration: iteration, warm: stuck)
            messages = opening

            var actions: [Action] = []
            var problems: [String] = []
            var queries: [WorkspaceQuery] = []
            if !reply.toolCalls.isEmpty {
                for call in reply.toolCalls {
                    do {
                        if let query = try parser.query(fromToolCall: call.name, arguments: call.arguments) {
                            queries.append(query)
                        } else {
                            actions.append(try parser.actions(fromToolCall: call.name, arguments: call.arguments))
                        }
                    } catch { problems.append("\(error)") }
                }
            } else {
                let parsed = parser.parse(reply.text)
                actions = parsed.actions
                problems = parsed.problems.map(\.description)
                queries = parsed.queries
            }
            messages.append(.user(PromptBuilder.note(of: actions, queries: queries, reply: reply.text)))
            // What the model asked to see comes back on its next turn; a reply that only
            // looked things up changed nothing to test.
            let lookups = await answers(queries, tokens: actions.isEmpty
                ? context.remaining(after: TokenEstimate.tokens(messages, tools: tools) + 40) : context.prompt / 4)
            if actions.isEmpty && !queries.isEmpty {
                messages.append(.user(PromptBuilder.lookupResults(lookups, failure: lastFailure)))
                continue
            }
            let writes = actions.filter { if case .runCommand = $0 { return false } else { return true } }
            if writes.isEmpty && !strategy.hasTests(copy.files()) || actions.isEmpty {
                messages.append(.user(PromptBuilder.noActions(problems: problems, workingFile: workingFile(touched: touched),
                                                              lastFeedback: lastFeedback)))
                continue
            }
            var feedback: [String] = lookups.isEmpty ? [] : [lookups]
            var changedFiles = false
            for original in actions {
                let action = located(original)
                if action != original, let from = original.writtenPath, let to = action.writtenPath {
                    feedback.append("There is no \(from); Doer applied your block to \(to), the file it names.")
                }
                emit(.action(candidate: index, action))
                if let path = action.writtenPath {
                    touched.insert(path)
                    // Only a fresh draw puts the starting files back; without one, reading them is wasted.
                    if configuration.redrawsWithoutProgress { starting.noteWrite(to: path, in: copy) }
                }
                switch action {
                case .writeFile(let path, let content): changedFiles = changedFiles || copy.read(path) != content
                case .editFile(_, let search, let replace): changedFiles = changedFiles || search != replace
                case .runCommand: changedFiles = true  // what a command changed is not known
                }
                if let note = try await perform(action, seen: &seen) { feedback.append(note) }
            }

            for (path, content) in testsWithImportsCompleted(touched: touched, hidden: hidden) {
                let completion = Action.writeFile(path: path, content: content)
                emit(.action(candidate: index, completion))
                feedback.append(try await perform(completion, seen: &seen) ?? "Doer completed the imports of \(path): each name now comes from the module that defines it.")
            }
            for (path, content) in goFilesTidied(touched: touched, hidden: hidden) {
                let tidy = Action.writeFile(path: path, content: content)
                emit(.action(candidate: index, tidy))
                feedback.append(try await perform(tidy, seen: &seen)
                    ?? "Doer tidied \(path) the way goimports would: unused imports out, missing standard ones in, a test in its code's package.")
            }
            guard strategy.hasTests(copy.files()) else {
                let room = context.remaining(after: TokenEstimate.tokens(messages + [.user(PromptBuilder.askForTests(targetFile: Planner.targetFile(of: task), files: ""))],
                                                                         tools: tools))
                messages.append(.user(PromptBuilder.askForTests(targetFile: Planner.targetFile(of: task),
                                                                files: await files(hiding: hidden, touched: touched, tokens: room, seen: &seen))))
                continue
            }
            emit(.candidateStatus(candidate: index, status: .testing(iteration: iteration)))
            let report = try await runTests()
            emit(.testReport(candidate: index, iteration: iteration, report: report))
            var failure = report.failureSummary ?? "no test passed"
            if report.succeeded {
                let finding = await evidence?.examine(winner: copy, changes: Agent.applicableChanges(in: copy, strategy: strategy),
                                                      originalFiles: originalFiles)
                guard let finding, !finding.evidence.verified, let repair = finding.repair, iteration < configuration.maxIterations else {
                    return .passed(iterations: iteration, evidence: finding?.evidence)
                }
                failure = repair + "\n(" + finding.evidence.summary + ")"
                // Told once and passed the same way again: the pass stands, shown as unverified.
                if FailureTrimmer.signature(failure) == lastSignature && configuration.repairTemperature == nil {
                    return .passed(iterations: iteration, evidence: finding.evidence)
                }
            }
            // A pass that shows nothing is no progress over an attempt that failed honestly.
            let progressed = report.succeeded ? false : best.consider(report, iteration: iteration, copy: copy, touched: touched)
            let signature = FailureTrimmer.signature(failure)
            // A greedy model that failed the same way twice will keep doing so on the same
            // prompt: it gets one more chance, sampled warm (a small model stuck on one wrong
            // reading often finds the right one in another sample); failing the same way again,
            // it gives up. Warm repairs are new samples each time, so they go on to the limit.
            if signature == lastSignature && configuration.repairTemperature == nil {
                if stuck || iteration == configuration.maxIterations {
                    return try giveUp(.repeatedFailure, iterations: iteration, reason: "the same failure twice in a row")
                }
                stuck = true
            }
            lastSignature = signature
            if configuration.redrawsWithoutProgress && !progressed {
                // Start over: the next turn is the first turn's request, on the files it shows;
                // the best attempt stays kept.
                for write in try starting.restore(into: copy) { emit(.action(candidate: index, write)) }
                messages = opening
                continue
            }
            let notes = feedback.isEmpty ? "" : feedback.joined(separator: "\n") + "\n"
            let turnHints = hints(changedFiles: changedFiles, touched: touched)
            let room = context.remaining(after: TokenEstimate.tokens(
                messages + [.user(notes + PromptBuilder.reflection(failure: failure, files: "", hints: turnHints))], tools: tools))
            let shown = await files(hiding: hidden, touched: touched, tokens: room, failure: failure, seen: &seen)
            let reflection = PromptBuilder.reflection(failure: failure, files: shown, hints: turnHints)
            messages.append(.user(notes + reflection))
            lastFeedback = reflection
            lastFailure = failure
        }
        return try giveUp(.iterationLimit, iterations: configuration.maxIterations, reason: "the iteration limit was reached")
    }

    /// The model's own Python tests that call the code without importing it, completed
    /// (see `TestImports`). Tests that were in the workspace before are the user's and stay as they are.
    private func testsWithImportsCompleted(touched: Set<String>, hidden: Set<String>) -> [(path: String, content: String)] {
        // Only tests the model added: one the workspace had is the user's, even when the model wrote to it.
        let tests = touched.filter { path in
            TestStrategy.isPythonTest(path) && !hidden.contains(path)
                && !FileManager.default.fileExists(atPath: copy.original.appendingPathComponent(path).path)
        }.sorted()
        guard strategy.kind == .pytest, !tests.isEmpty else { return [] }
        let files = copy.files()
        // A test beside the code imports it by file name; one in `tests/` through the package.
        let packages = TestImports.packageModules(files: files, read: copy.read)
        return tests.compactMap { path in
            guard let test = copy.read(path) else { return nil }
            let modules = TestImports.importable(by: path, files: files, packages: packages, read: copy.read)
            // An import from the package top of a name one of its modules defines is pointed there first.
            let corrected = TestImports.correctedImports(test: test, modules: modules)
            guard let completed = TestImports.completed(test: corrected ?? test, modules: modules) ?? corrected else { return nil }
            return (path, completed)
        }
    }

    /// The Go files the model wrote this turn, mended where Go would refuse to build them
    /// for a reason `goimports` fixes (`GoImports`). A test the workspace had keeps its package.
    private func goFilesTidied(touched: Set<String>, hidden: Set<String>) -> [(path: String, content: String)] {
        guard strategy.kind == .project, strategy.languages.contains("go") else { return [] }
        return touched.filter { $0.hasSuffix(".go") && !hidden.contains($0) }.sorted().compactMap { path in
            guard let source = copy.read(path) else { return nil }
            let isNewTest = path.hasSuffix("_test.go") && !FileManager.default.fileExists(atPath: copy.original.appendingPathComponent(path).path)
            let folder = (path as NSString).deletingLastPathComponent
            let package = isNewTest ? GoSource.package(in: folder, files: copy.files(), read: copy.read) : nil
            return GoImports.tidied(source, package: package, isTest: isNewTest).map { (path, $0) }
        }
    }

    /// The existing file the model was changing, to name in a reminder of the block forms: the
    /// one it touched, else the one the request points at.
    private func workingFile(touched: Set<String>) -> String? {
        let existing = touched.filter { FileManager.default.fileExists(atPath: copy.original.appendingPathComponent($0).path) && !TestStrategy.isPythonTest($0) }
        if existing.count == 1 { return existing.first }
        return Planner.targetFile(of: task) ?? repository?.focusFile
    }

    /// What the failure alone does not say: that the reply changed nothing, or that a
    /// function it wrote has no code yet.
    private func hints(changedFiles: Bool, touched: Set<String>) -> [String] {
        var hints: [String] = []
        if !changedFiles {
            hints.append("Your last reply left the files as they were, so the tests failed the same way. Reply with changed code that fixes the failure.")
        }
        let empty = touched.filter { $0.hasSuffix(".py") }.sorted().flatMap { path in
            UnwrittenFunctions.names(inPython: copy.read(path) ?? "").map { (function: $0, path: path) }
        }
        if let only = empty.first, empty.count == 1 {
            hints.append("`\(only.function)` in \(only.path) has no code yet, only its signature and docstring, so it returns None. "
                         + "Reply with \(only.path) where `\(only.function)` computes and returns the result.")
        } else if !empty.isEmpty {
            hints.append(empty.map { "`\($0.function)` in \($0.path)" }.joined(separator: " and ")
                         + " have no code yet, only their signatures and docstrings, so they return None. "
                         + "Reply with the files where they compute and return their results.")
        }
        return hints
    }

    /// The temperature of a stuck greedy candidate's later turns.
    static let stuckTemperature = 0.8

    private func generate(_ messages: [ChatMessage], iteration: Int, warm: Bool = false) async throws -> ModelResponse {
        let temperature = configuration.temperature(forCandidate: index, iteration: iteration)
        let request = ModelRequest(messages: PromptBuilder.fitted(PromptBuilder.joiningConsecutiveUserMessages(messages), tokens: context.prompt, tools: tools), tools: tools,
                                   temperature: warm ? max(temperature, Self.stuckTemperature) : temperature,
                                   seed: configuration.seed &+ index &* 1000 &+ iteration, maxTokens: configuration.maxTokensPerTurn)
        Self.logger.trace("""
            prompt of candidate \(index), iteration \(iteration):
            \(request.messages.map { "[\($0.role)]\n\($0.content)" }.joined(separator: "\n"))
            """)
        var builder = ModelResponseBuilder()
        for try await delta in provider.stream(request) {
            if case .text(let piece, 0) = delta { emit(.messageDelta(candidate: index, text: piece)) }
            builder.add(delta)
        }
        let response = builder.response
        Self.logger.trace("reply of candidate \(index), iteration \(iteration):\n\(response.text)")
        return response
    }

    /// `DOER_LOG_LEVEL=trace` shows every prompt as it was sent and every reply: what the model saw, cut to its window, and what it said.
    private static let logger = Logger(label: "doer.agent.prompt")

    /// Applies an action to the copy; returns a note for the model when something went wrong.
    private func perform(_ action: Action, seen: inout SeenCode) async throws -> String? {
        if let path = action.writtenPath, strategy.writtenFiles[path] != nil {
            return "Doer kept \(path) as it was: it is Doer's own check of the request, not yours to change. "
                + "Change the code so it passes."
        }
        switch action {
        case .writeFile(let path, let content):
            let old = copy.read(path)
            let package = DefinitionSplice.package(of: path)
            defer { if copy.read(path) == content { seen.wrote(path) } }
            if let refusal = ExistingTestGuard.refusal(path: path, original: WorkspaceCopy.read(path, in: copy.original), new: content, task: task) {
                return refusal
            }
            if let refusal = LargeFileGuard.refusal(path: path, old: old, new: content) {
                // Only functions the file already has: they go in place of their namesakes.
                guard path.hasSuffix(".py"), let old, let splice = DefinitionSplice.spliced(old: old, new: content, package: package) else {
                    guard path.hasSuffix(".py"), let old,
                          let merge = DefinitionMerge.merged(old: old, new: content, package: package, shown: seen.shownNames(of: path)) else { return refusal }
                    return write(merge, to: path)
                }
                do { try copy.write(path, splice.text) } catch { return "Could not write \(path): \(error)" }
                emit(.action(candidate: index, .writeFile(path: path, content: splice.text)))
                return "Your \(path) held only " + splice.functions.map { "`\($0)`" }.joined(separator: ", ")
                    + ": Doer put each in place of its namesake and kept the rest of \(path) as it was."
            }
            if path.hasSuffix(".py"), let old, old != content,
               let merge = DefinitionMerge.merged(old: old, new: content, package: package, shown: seen.shownNames(of: path)) {
                return write(merge, to: path)
            }
            do { try copy.write(path, content) } catch { return "Could not write \(path): \(error)" }
            return nil
        case .editFile(let path, let search, let replace):
            guard let current = copy.read(path) else { return "Edit of \(path) failed: no such file. Write the whole file instead." }
            let count = current.components(separatedBy: search).count - 1
            guard count == 1 else {
                return "Edit of \(path) failed: the SEARCH text was found \(count) times (it must be found once). Write the whole file instead."
            }
            let edited = current.replacingOccurrences(of: search, with: replace)
            if let refusal = ExistingTestGuard.refusal(path: path, original: WorkspaceCopy.read(path, in: copy.original), new: edited, task: task) {
                return refusal
            }
            do { try copy.write(path, edited) } catch { return "Could not write \(path): \(error)" }
            return nil
        case .runCommand(let command):
            emit(.executionStarted(candidate: index, command: command))
            let live = LiveOutput(candidate: index, emit: emit)
            let result = try await sandbox.run(ExecutionRequest(command: ["sh", "-c", command], workspace: copy.directory,
                                                                environment: strategy.environment, limits: configuration.limits, network: configuration.network,
                                                                applyChanges: true),
                                               observingOutput: live.observer)
            live.finish()
            let output = FailureTrimmer.trim(result.stdout.text + result.stderr.text, maxLines: 30)
            emit(.executionFinished(candidate: index, command: command, exitCode: result.termination.shellExitCode,
                                    durationMs: result.durationMs, output: output))
            // Doer runs the tests after every reply: a test command's output would only repeat
            // that run's, in room the files need.
            if command.range(of: #"\b(pytest|py\.test|unittest)\b"#, options: .regularExpression) != nil {
                return "`\(command)` exited with \(result.termination.shellExitCode); Doer's test run below says what failed."
            }
            return "`\(command)` exited with \(result.termination.shellExitCode):\n\(output)"
        }
    }

    /// The action on the file it means, when it names one that does not exist (see `MisplacedPath`).
    private func located(_ action: Action) -> Action {
        let files = copy.files()
        switch action {
        case .writeFile(let path, let content):
            return MisplacedPath.intended(path, content: content, files: files, read: copy.read).map { .writeFile(path: $0, content: content) } ?? action
        case .editFile(let path, let search, let replace):
            return MisplacedPath.intended(path, search: search, files: files, read: copy.read).map { .editFile(path: $0, search: search, replace: replace) } ?? action
        case .runCommand:
            return action
        }
    }

    /// Writes a rewrite read as changes to the file as it was (recorded as Doer's write), and says so.
    private func write(_ merge: DefinitionMerge.Result, to path: String) -> String {
        do { try copy.write(path, merge.text) } catch { return "Could not write \(path): \(error)" }
        emit(.action(candidate: index, .writeFile(path: path, content: merge.text)))
        var notes: [String] = []
        if !merge.kept.isEmpty {
            notes.append("Your \(path) left out " + merge.kept.map { "`\($0)`" }.joined(separator: ", ") + ", which your code still uses.")
        }
        if !merge.unseen.isEmpty {
            notes.append("You were not shown " + merge.unseen.map { "`\($0)`" }.joined(separator: ", ")
                         + " of \(path), so your versions of them were not used; ```read \(path) shows them.")
        }
        return notes.joined(separator: " ") + " Doer kept the rest of \(path) as it was and put what you wrote in place of its namesakes."
    }

    /// The native tools offered: the actions, and the lookups the loop answers.
    private var tools: [ToolDefinition] {
        configuration.nativeTools ? ActionParser.toolDefinitions + ActionParser.queryToolDefinitions : []
    }

    /// The copy's files as a turn shows them, within `tokens`.
    private func files(hiding hidden: Set<String>, touched: Set<String> = [], tokens: Int, failure: String? = nil,
                       seen: inout SeenCode) async -> String {
        let rendered: PromptFiles.Rendered
        if let repository {
            rendered = await repository.files(of: copy, hiding: hidden, touched: touched, tokens: tokens, failure: failure)
        } else {
            rendered = PromptFiles(index: WorkspaceIndex(), focus: RequestFocus(task: task), hidden: hidden, touched: touched)
                .render(of: copy, tokens: tokens, failure: failure)
        }
        seen.note(rendered)
        return rendered.text
    }

    private func answers(_ queries: [WorkspaceQuery], tokens: Int) async -> String {
        guard !queries.isEmpty else { return "" }
        if let repository { return await repository.answer(queries, in: copy, tokens: tokens) }
        let answers = QueryAnswers(index: WorkspaceIndex())
        return queries.map { answers.answer($0, in: copy, tokens: max(200, tokens / queries.count)) }.joined(separator: "\n")
    }

    private func runTests() async throws -> TestReport {
        // Doer's checks run as Doer wrote them: a command of the model's may have changed or
        // removed one (`rm test_doer_examples.py`), and a pass without them would be the
        // model's word, not the request's.
        for (path, content) in strategy.writtenFiles where copy.read(path) != content { try copy.write(path, content) }
        let tests = TestRun(strategy: strategy, sandbox: sandbox, configuration: configuration)
        let command = tests.command(for: copy)
        let display = command.joined(separator: " ")
        emit(.executionStarted(candidate: index, command: display))
        let live = LiveOutput(candidate: index, emit: emit)
        let run = try await tests.run(on: copy, command: command, observer: strategy.kind == .project ? nil : live.observer)
        live.finish()
        emit(.executionFinished(candidate: index, command: display, exitCode: run.exitCode,
                                durationMs: run.durationMs, output: run.shownOutput))
        return run.report
    }
}
