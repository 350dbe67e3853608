import DoerCore
import DoerSandbox
import Foundation

/// Whether a candidate whose tests pass has shown that it did what was asked. Tests that
/// pass say nothing on their own: on a real project they passed before any change. The
/// evidence is a test that fails on the workspace as it was and passes with the change —
/// checked by running the winner's tests (its own and the request's examples, with the
/// workspace's) on an untouched copy of the workspace.
struct RequestEvidence {
    let task: String
    let workspace: URL
    let strategy: TestStrategy
    let sandbox: any Sandbox
    let configuration: AgentConfiguration
    /// Puts a pass shown only by the model's own tests to a test written apart from its code.
    var independent: IndependentTest? = nil

    /// What was found, and when the shortfall is one the model can mend in another turn
    /// (not a test run that could not happen), what to tell it.
    struct Finding {
        var evidence: ChangeEvidence
        var repair: String?
    }

    /// - Parameters:
    ///   - winner: the candidate's copy, holding its changes.
    ///   - changes: what would be applied (tool caches and Doer's own files left out).
    ///   - originalFiles: the workspace's files before the run.
    func check(winner: WorkspaceCopy, changes: [FileChange], originalFiles: [String]) async -> ChangeEvidence {
        await examine(winner: winner, changes: changes, originalFiles: originalFiles).evidence
    }

    func examine(winner: WorkspaceCopy, changes: [FileChange], originalFiles: [String]) async -> Finding {
        guard !changes.isEmpty else {
            return Finding(evidence: unverified("nothing changed, so nothing shows the request was done"),
                           repair: "The tests pass, but the files are as they were, so nothing shows the request was done. "
                               + "Make the change the request asks for.")
        }
        let code = changes.filter { !TestFiles.isTest($0.path) }
        let tests = changes.filter { TestFiles.isTest($0.path) && $0.kind != .deleted }
        if code.isEmpty && !Self.asksForTestsOnly(task) {
            return Finding(evidence: unverified("only tests changed; no code the request is about did"),
                           repair: "The tests pass, but you changed only tests: the code the request is about is as it was. "
                               + "Change that code so it does what was asked.")
        }
        if let unasked = Self.onlyUnaskedAdditions(code, originalFiles: originalFiles, task: task) {
            return Finding(evidence: unverified("the change only adds files the request did not name (\(unasked.joined(separator: ", "))); "
                                                + "the workspace's own code is untouched"),
                           repair: "The tests pass, but you only added new files (\(unasked.joined(separator: ", "))): the workspace's own code "
                               + "the request is about is as it was. Change that code where it is defined.")
        }
        // The workspace's own tests are the user's: a change must pass them as they were, under
        // the configuration they had (a new `--deselect` or `collect_ignore` hides a failure).
        let editedTests = (Self.asksToChangeTests(task) ? [] : changes.filter { TestFiles.isTest($0.path) && $0.kind != .added }.map(\.path))
            + TestConfiguration.changed(changes, originalFiles: originalFiles, original: { WorkspaceCopy.read($0, in: workspace) },
                                        changed: { winner.read($0) }).filter { !Self.named($0, in: task) }
        if !editedTests.isEmpty {
            switch await passesWithOriginalTests(winner: winner, paths: editedTests, added: changes.filter { $0.kind == .added }.map(\.path)) {
            case .success(true): break
            case .success(false):
                return Finding(evidence: unverified("it passes only with the workspace's own tests or their configuration changed "
                                                    + "(\(editedTests.joined(separator: ", "))); with them as they were, tests fail"),
                               repair: "The tests pass only because you changed the workspace's own tests or how pytest collects and runs them "
                                   + "(\(editedTests.joined(separator: ", "))). Those are the user's and stay as they were: change the code so "
                                   + "it passes them unchanged.")
            case .failure(let why):
                return Finding(evidence: unverified("could not run the workspace's own tests as they were: \(why)"))
            }
        }
        // The winner's tests on the workspace as it was.
        let before: WorkspaceCopy
        do {
            before = try WorkspaceCopy(copying: workspace, stagingRoot: configuration.stagingRoot)
        } catch {
            return Finding(evidence: unverified("could not check the tests against the workspace as it was: \(error.description)"))
        }
        defer { before.discard() }
        // New files the request did not name go in too, beside a project's code: a test
        // that fails only because `hello.py` is missing says nothing about the request.
        let unnamedAdditions = Self.hadCode(originalFiles)
            ? code.filter { $0.kind == .added && !Self.named($0.path, in: task) } : []
        for change in tests + unnamedAdditions {
            guard let text = winner.read(change.path) else { continue }
            try? before.write(change.path, text)
        }
        // So do new functions the request did not ask for, in the files they were added to:
        // a test that fails only because `spread_fixed` did not exist says nothing of `spread`.
        var carried: [String] = []
        for change in code where change.kind == .modified && change.path.hasSuffix(".py") {
            guard let old = before.read(change.path), let new = winner.read(change.path),
                  let added = AddedDefinitions.carried(old: old, new: new, task: task) else { continue }
            if (try? before.write(change.path, added.text)) != nil { carried += added.names }
        }
        for (path, content) in strategy.writtenFiles { try? before.write(path, content) }
        let run: TestRun.Outcome
        do {
            run = try await TestRun(strategy: strategy.seeingEveryFailure, sandbox: sandbox, configuration: configuration).run(on: before)
        } catch {
            return Finding(evidence: unverified("could not run the tests against the workspace as it was: \(error)"))
        }
        let command = strategy.command.joined(separator: " ")
        if !run.report.succeeded {
            let red = run.report.failed > 0 ? "\(run.report.failed) test(s)" : "the tests"
            // The winner's run passed every test, so each that failed here passes with the change.
            let failed = strategy.kind == .nodeTest ? NodeTestReport.failedIDs(in: run.output, roots: [before.directory.path])
                : Self.failedTests(in: run, files: before.files(), read: { before.read($0) })
            let sources = Self.sources(of: failed, generated: Set(strategy.generatedFiles.keys).subtracting([TestStrategy.rulesFile]),
                                       rules: [TestStrategy.rulesFile], originalFiles: Set(originalFiles),
                                       original: { WorkspaceCopy.read($0, in: workspace) }, current: { winner.read($0) })
            let hardCoded = Self.hardCoded(task, in: code, winner: winner, workspace: workspace)
            if let example = hardCoded.first {
                let stated = "`\(example.expression)` → \(example.value)"
                return Finding(evidence: unverified("\(red) went from red to green, but the change writes the request's example into the code "
                                                    + "(\(stated)) instead of doing what it asks for every input", before: run.report),
                               repair: "The request's tests pass now, but only because your change writes its example into the code (\(stated)). "
                                   + "Inputs like it are as wrong as before. Take the special case out and fix the code that computes the value, "
                                   + "so the example comes out right without being named.")
            }
            let broken = await brokenBehaviour(before: before, winner: winner, code: code)
            if !broken.isEmpty {
                let shown = BehaviourProbe.Regression.listed(broken)
                return Finding(evidence: unverified("\(red) went from red to green, but the change breaks what the code did for inputs the request "
                                                    + "is not about: \(shown)", before: run.report),
                               repair: "The request's tests pass now, but your change breaks what the code did for other inputs: \(shown). "
                                   + "Code that calls it relies on that. Make the change the request asks for without losing what the code "
                                   + "did before; if the fault is in a function this one calls, fix it there.")
            }
            var evidence = ChangeEvidence(kind: .redGreen, verified: true, failedBefore: failed, passedAfter: failed, before: run.report,
                                          command: command, summary: "\(red) failed on the workspace as it was and pass with the change"
                                            + (failed.isEmpty ? "" : " (" + failed.prefix(5).joined(separator: ", ") + (failed.count > 5 ? ", …" : "") + ")"),
                                          sources: sources)
            // Only a rule the request states in words went red to green ("an empty list raises
            // ValueError"): that rule holds, but nothing shows the rest of the request done.
            let rulesOnly = sources.isEmpty && !failed.isEmpty && failed.allSatisfy { CrossCheck.file(of: $0) == TestStrategy.rulesFile }
            // A Go build that failed without naming a test file (no go.mod yet) says nothing of
            // whose tests went red: they are held to what the model's own would be.
            let unattributed = strategy.kind == .project && sources.isEmpty && !rulesOnly
            if sources == [.modelTests] || rulesOnly || unattributed, let independent {
                if unattributed { evidence.sources = [.modelTests] }
                return await corroborate(evidence, by: independent, winner: winner, failed: failed, code: code, tests: tests,
                                         newCode: newCode(code, winner: winner))
            }
            if rulesOnly {
                return Finding(evidence: unverified("only Doer's tests of the rules the request states in words went from red to green "
                                                    + "(\(failed.prefix(3).joined(separator: ", "))); they do not show the rest of it done",
                                                    before: run.report),
                               repair: "The tests pass, but the only tests that failed before your change check what the request says of "
                                   + "special inputs. Add a test of what the request asks for in general — it must fail without your change "
                                   + "and pass with it.")
            }
            if sources == [.modelTests] { evidence.summary += "; only tests the model wrote show it, no example of the request's or test of the project's" }
            return Finding(evidence: evidence)
        }
        if Self.asksForRefactor(task) {
            // The existing suite is the specification only as far as it reaches: what it does
            // not call must come out the same too.
            let changed = await brokenBehaviour(before: before, winner: winner, code: code, sameResults: true)
            if !changed.isEmpty {
                let shown = BehaviourProbe.Regression.listed(changed)
                return Finding(evidence: unverified("a refactor, as asked, and the existing tests pass, but it changes what the code does: \(shown)",
                                                    before: run.report),
                               repair: "The tests pass, but a refactor must not change what the code does, and yours does: \(shown). "
                                   + "Keep the new structure and make every result what it was.")
            }
            return Finding(evidence: ChangeEvidence(kind: .existingSuite, verified: true, before: run.report, command: command,
                                                    summary: "a refactor, as asked: the existing tests passed before and pass after"))
        }
        if !carried.isEmpty {
            let names = carried.prefix(5).joined(separator: ", ")
            return Finding(evidence: unverified("the tests pass on the workspace as it was too once it has the new \(names) the request did not ask for, "
                                                + "so they show only that those exist, not that the request was done", before: run.report),
                           repair: "The tests pass, but they fail without your change only because \(names) did not exist; with those added to "
                               + "the old code they pass too, so they show nothing about the request. Test the behaviour the request asks for "
                               + "through the code it is about — the test must fail on the code as it was — and make that code pass it.")
        }
        return Finding(evidence: unverified("the tests pass on the workspace as it was too, so none of them shows the request was done",
                                            before: run.report),
                       repair: "The tests pass, but they passed before your change too, so none of them shows the request was done. "
                           + "Add a test that checks what the request asks for — it must fail on the code as it was and pass with your change — "
                           + "and keep the change that makes it pass.")
    }

    /// Where the change put code the workspace did not have: new Python and Go files and the
    /// names they define, new functions and classes (types) of files it had. The writer of
    /// the test apart is told these names, never the code: "add a function giving the range"
    /// cannot be tested without the name the candidate chose.
    private func newCode(_ code: [FileChange], winner: WorkspaceCopy) -> [IndependentTest.NewCode] {
        code.filter { change in
            change.kind != .deleted && (change.path.hasSuffix(".py") || change.path.hasSuffix(".go") && !change.path.hasSuffix("_test.go"))
        }.compactMap { change in
            guard let text = winner.read(change.path) else { return nil }
            let old = change.kind == .added ? nil : WorkspaceCopy.read(change.path, in: workspace)
            let go = change.path.hasSuffix(".go")
            let names = go ? GoSource.newNames(old: old, new: text) : AddedDefinitions.newNames(old: old, new: text)
            guard change.kind == .added || !names.isEmpty else { return nil }
            // A Go test in the same package calls the names as they are: nothing to import.
            return IndependentTest.NewCode(path: change.path, isNewFile: change.kind == .added, names: names,
                                           module: go ? nil : BehaviourProbe.module(of: change.path, importRoots: strategy.importRoots))
        }
    }

    /// A pass only the model's own tests show: its code and its tests come from one reading
    /// of the request, so a test written apart from the code must agree (`IndependentTest`).
    /// Disagreeing, the candidate is told and may mend its code. The test's writer is told
    /// where new code went and what it is called (`newCode`), so it can import it.
    private func corroborate(_ evidence: ChangeEvidence, by independent: IndependentTest, winner: WorkspaceCopy,
                             failed: [String], code: [FileChange], tests: [FileChange], newCode: [IndependentTest.NewCode]) async -> Finding {
        // Beside the first failing test's file; when no failure names one (a Go build with no
        // module yet), beside the first test the change wrote.
        let file = failed.map(CrossCheck.file(of:)).first { winner.read($0) != nil } ?? tests.map(\.path).sorted().first
        let folder = file.map { ($0 as NSString).deletingLastPathComponent } ?? ""
        let rulesOnly = (evidence.sources ?? []).isEmpty
        let own = rulesOnly ? "only Doer's tests of the rules the request states in words went from red to green"
            : "only the model's own tests went from red to green"
        let verdict = await independent.judge(winner: winner, folder: folder, newCode: newCode)
        // A candidate shown that test's failing assertion may write its values into the code.
        if case .agrees(_, let test) = verdict, let example = Self.hardCoded(test, in: code, winner: winner, workspace: workspace).first {
            let stated = "`\(example.expression)` → \(example.value)"
            return Finding(evidence: unverified(own + ", and the change passes the test written apart from the code only by writing "
                                                + "its values into the code (\(stated))", before: evidence.before),
                           repair: "Your change passes the test written apart from your code only because it writes that test's values "
                               + "into the code (\(stated)). Inputs like it are as wrong as before. Take the special case out and make the "
                               + "code compute the value for every input.")
        }
        switch verdict {
        case .agrees(let ids, _):
            var agreed = evidence
            agreed.sources = rulesOnly ? [.independentTest] : [.modelTests, .independentTest]
            agreed.summary += (rulesOnly ? "; those tests check only stated rules," : "; the tests are the model's own,")
                + " and a test of the request written apart from the code agrees "
                + "(\(ids.count) of its test(s) failed on the workspace as it was and pass with the change)"
            return Finding(evidence: agreed)
        case .disagrees(let failures):
            let shown = FailureTrimmer.trim(failures, maxLines: 12, maxCharacters: 1500)
            return Finding(evidence: unverified(own + ", and a test of the request written apart from the code fails with the change: "
                                                + (shown.split(separator: "\n").first.map(String.init) ?? shown), before: evidence.before),
                           repair: "The tests pass, but only your own tests show the request done, and a test of the request written "
                               + "apart from your code, from the request and the code as it was, fails with your change:\n" + shown
                               + "\nOne of the two readings of the request is wrong. Read the request and the docstrings again and work out "
                               + "the expected values step by step. If your code is wrong, fix it and your tests. That test is not yours to change.")
        case .unavailable(let why):
            return Finding(evidence: unverified(own + ", and no test of the request written apart from the code could confirm it (\(why))",
                                                before: evidence.before))
        }
    }

    /// The calls of `text` (the request, or a test: `f(x) == y`) whose values the change wrote
    /// into the code as a special case (`HardCodedExamples`).
    static func hardCoded(_ text: String, in code: [FileChange], winner: WorkspaceCopy, workspace: URL) -> [HardCodedExamples.Finding] {
        HardCodedExamples.find(task: text, changes: code.filter { $0.path.hasSuffix(".py") }.compactMap { change in
            winner.read(change.path).map { (old: change.kind == .added ? nil : WorkspaceCopy.read(change.path, in: workspace), new: $0) }
        })
    }

    /// Inputs the change stopped answering (see `BehaviourProbe`): asked once a test has
    /// shown the request done, because only then would the change be called a success.
    /// - Parameter sameResults: a refactor's check — every result must be what it was.
    private func brokenBehaviour(before: WorkspaceCopy, winner: WorkspaceCopy, code: [FileChange],
                                 sameResults: Bool = false) async -> [BehaviourProbe.Regression] {
        guard strategy.kind == .pytest else { return [] }
        var targets: [BehaviourProbe.Target] = []
        for change in code where change.kind == .modified {
            guard let old = WorkspaceCopy.read(change.path, in: workspace), let new = winner.read(change.path),
                  let module = BehaviourProbe.module(of: change.path, importRoots: strategy.importRoots) else { continue }
            let functions = BehaviourProbe.rewrittenFunctions(old: old, new: new)
            if !functions.isEmpty { targets.append(BehaviourProbe.Target(module: module, functions: functions)) }
        }
        guard !targets.isEmpty else { return [] }
        let probe = BehaviourProbe(sandbox: sandbox, limits: configuration.limits, environment: strategy.environment,
                                   importRoots: strategy.importRoots)
        guard let old = await probe.observe(targets, in: before.directory),
              let new = await probe.observe(targets, in: winner.directory) else { return [] }
        return BehaviourProbe.regressions(before: old, after: new, task: task, sameResults: sameResults)
    }

    private func unverified(_ why: String, before: TestReport? = nil) -> ChangeEvidence {
        ChangeEvidence(kind: .none, verified: false, before: before, command: strategy.command.joined(separator: " "), summary: why)
    }

    /// The ids of the tests that failed in `run`: pytest's from its report's lines; Go's
    /// named by their files (`GoTestIDs`), so whose they are can be told.
    static func failedTests(in run: TestRun.Outcome, files: [String], read: (String) -> String?) -> [String] {
        var ids = failedTests(in: run.shownOutput + "\n" + (run.report.failureSummary ?? ""))
        for report in run.project?.languages ?? [] where report.language == "go" && report.outcome != .passed {
            let go = GoTestIDs.failed(in: report, files: files, read: read)
            // The summary's lines for Go's tests (`FAILED pkg.TestX: …`) are replaced by these.
            let named = Set(report.tests.map { ($0.suite.map { $0 + "." } ?? "") + $0.name + ":" })
            ids = ids.filter { !named.contains($0) } + go.filter { !ids.contains($0) }
        }
        return ids
    }

    /// The ids of failed tests a runner's summary names: pytest's `FAILED path::test - …`
    /// and `ERROR path::test`, node's `not ok N - name`.
    static func failedTests(in output: String) -> [String] {
        var found: [String] = []
        for line in output.split(separator: "\n") {
            let text = line.trimmingCharacters(in: .whitespaces)
            var id: Substring?
            if text.hasPrefix("FAILED ") || text.hasPrefix("ERROR ") {
                id = text.drop(while: { $0 != " " }).dropFirst().split(separator: " ").first
            } else if text.hasPrefix("not ok "), let dash = text.range(of: " - ") {
                id = text[dash.upperBound...]
            }
            if let id, !id.isEmpty, !found.contains(String(id)) { found.append(String(id)) }
        }
        return found
    }

    /// Whose tests the failed ids are: Doer's file of the request's examples, a test the
    /// workspace had, or one the candidate wrote — in a file it added, or added to a test
    /// file the workspace had (adding tests is allowed there, and such a test is no more the
    /// project's than one in a new file): a test of a workspace file counts as the project's
    /// only when its class and function are defined in the file as it was (`original`).
    /// - Parameter rules: Doer's files of stated rules: conditions every change must meet, no
    ///   one's evidence that the request was done.
    static func sources(of failed: [String], generated: Set<String>, rules: Set<String> = [], originalFiles: Set<String>,
                        original: (String) -> String? = { _ in nil }, current: (String) -> String? = { _ in nil }) -> [ChangeEvidence.Source] {
        var found: [ChangeEvidence.Source] = []
        // Ids that name their file (pytest's, and node's as `NodeTestReport` reads them); a name
        // alone says nothing of whose it is.
        // A file's own id (`ERROR test_roman.py`: it could not be imported, as in an empty
        // workspace before the module exists) names no test: it is the project's only when the
        // workspace had that file and the change left it as it was (`current`).
        for id in failed {
            let file: String
            if let separator = id.range(of: "::") {
                file = String(id[..<separator.lowerBound])
            } else if [".py", ".js", ".mjs", ".cjs", "_test.go"].contains(where: id.hasSuffix), !id.contains(" ") {
                file = id
            } else {
                continue
            }
            if rules.contains(file) { continue }
            let source: ChangeEvidence.Source = generated.contains(file) ? .requestExamples
                : originalFiles.contains(file) && (file == id ? original(file).map { $0 == current(file) } ?? false
                                                               : defines(id, in: original(file))) ? .workspaceTests : .modelTests
            if !found.contains(source) { found.append(source) }
        }
        return found
    }

    /// Whether `text` defines every class and function a pytest id names
    /// (`tests/test_a.py::TestA::test_b[1-2]` → `class TestA`, `def test_b`).
    static func defines(_ id: String, in text: String?) -> Bool {
        guard let text else { return false }
        // node's test: `test('name', …)`, `it("name", …)`, `describe(`name`, …)`.
        if let file = id.components(separatedBy: "::").first, file.hasSuffix(".js") || file.hasSuffix(".mjs") || file.hasSuffix(".cjs") {
            let name = id.components(separatedBy: "::").dropFirst().joined(separator: "::")
            guard !name.isEmpty else { return false }
            let quoted = NSRegularExpression.escapedPattern(for: name)
            return text.range(of: "\\b(test|it|describe)\\s*\\(\\s*(['\"`])\(quoted)\\2", options: .regularExpression) != nil
        }
        // Go's: `func TestName(t *testing.T)`, subtests (`TestName/case`) by their function.
        if let file = id.components(separatedBy: "::").first, file.hasSuffix("_test.go") {
            let name = id.components(separatedBy: "::").dropFirst().joined(separator: "::").prefix { $0 != "/" }
            return !name.isEmpty && GoSource.testNames(in: text).contains(String(name))
        }
        let names = id.components(separatedBy: "::").dropFirst().map { name in
            name.firstIndex(of: "[").map { String(name[..<$0]) } ?? name
        }
        guard !names.isEmpty else { return false }
        return names.enumerated().allSatisfy { index, name in
            let keyword = index == names.count - 1 ? "(async\\s+)?def" : "class"
            let pattern = "(?m)^[ \\t]*\(keyword)\\s+\(NSRegularExpression.escapedPattern(for: name))\\b"
            return text.range(of: pattern, options: .regularExpression) != nil
        }
    }

    private struct CheckFailure: Error { var text: String }

    /// Whether the winner's code passes with `paths` as they were in the workspace: a changed
    /// or deleted one is put back, one the workspace did not have is removed (and so are the
    /// new tests below a new `conftest.py`, which may need its fixtures).
    private func passesWithOriginalTests(winner: WorkspaceCopy, paths: [String], added: [String]) async -> Result<Bool, CheckFailure> {
        do {
            let after = try WorkspaceCopy(copying: winner.directory, stagingRoot: configuration.stagingRoot)
            defer { after.discard() }
            for path in paths {
                if let text = WorkspaceCopy.read(path, in: workspace) {
                    try after.write(path, text)
                } else if added.contains(path) {
                    after.remove(path)
                    guard path.hasSuffix("conftest.py") else { continue }
                    let folder = String(path.dropLast("conftest.py".count))
                    for test in added where test.hasPrefix(folder) && TestFiles.isTest(test) { after.remove(test) }
                }
            }
            for (path, content) in strategy.writtenFiles { try after.write(path, content) }
            let run = try await TestRun(strategy: strategy, sandbox: sandbox, configuration: configuration).run(on: after)
            return .success(run.report.succeeded)
        } catch {
            return .failure(CheckFailure(text: "\(error)"))
        }
    }

    static func asksToChangeTests(_ task: String) -> Bool {
        let text = task.lowercased()
        return ["test", "spec"].contains { text.contains($0) }
            && ["update", "change", "rewrite", "correct", "edit", "modify", "adjust"].contains { verb in
                text.range(of: "\\b\(verb)\\w*\\s+(the\\s+)?(\\w+\\s+)?(tests?|specs?)\\b", options: .regularExpression) != nil
            }
    }

    /// New files only, none of them named in the request, in a workspace that had code:
    /// a `hello.py` beside the project the request was about is not a fix.
    static func onlyUnaskedAdditions(_ code: [FileChange], originalFiles: [String], task: String) -> [String]? {
        guard hadCode(originalFiles), !code.isEmpty, code.allSatisfy({ $0.kind == .added }) else { return nil }
        let unasked = code.map(\.path).filter { !named($0, in: task) }
        return unasked.count == code.count ? unasked : nil
    }

    /// Whether the workspace held code before (in an empty one, every new file is the point).
    static func hadCode(_ originalFiles: [String]) -> Bool {
        originalFiles.contains { !TestFiles.isTest($0) && !$0.hasSuffix(".md") && !$0.hasSuffix(".txt") }
    }

    /// Whether the request names the file (or its module name).
    static func named(_ path: String, in task: String) -> Bool {
        let text = task.lowercased()
        let name = (path as NSString).lastPathComponent.lowercased()
        let stem = (name as NSString).deletingPathExtension
        return text.contains(name) || stem.count >= 3 && text.contains(stem)
    }

    static func asksForRefactor(_ task: String) -> Bool {
        let text = task.lowercased()
        return ["refactor", "without changing behavio", "rename ", "clean up", "tidy"].contains { text.contains($0) }
    }

    static func asksForTestsOnly(_ task: String) -> Bool {
        let text = task.lowercased()
        return ["add tests", "add a test", "write tests", "write a test", "more tests", "test coverage"].contains { text.contains($0) }
            && !["fix", "implement", "bug"].contains { text.contains($0) }
    }
}
