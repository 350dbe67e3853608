import DoerCore
import DoerSandbox
import Foundation

/// When every candidate gave up, their code is judged against each other's tests
/// (CodeT-style agreement) before the run is called a failure.
///
/// A small model often writes the right code and a wrong assertion beside it
/// (`to_roman(150) == "LX"`); its loop then fails on its own mistake and the correct code is
/// thrown away. The request's stated examples are the specification and the model's asserts
/// are hypotheses, so: every candidate's code runs against every candidate's model-written
/// tests, the stated examples and the workspace's own tests. Code that fails a stated
/// example or a workspace test is out. A model test no candidate's code passes is dropped.
/// The rest are votes: a candidate scores, for each kept test it passes, the number of
/// candidates that pass it too; the highest score wins (ties: the lowest index). The winner's
/// copy gets the kept tests it passes — its own and the others' — and must pass the full
/// strategy again; the evidence check (red → green) then judges it like any winner.
///
/// Only for pytest with stated examples: without a specification from the user there is
/// nothing to tell right code from code that merely agrees with its own tests.
struct CrossCheck {
    let strategy: TestStrategy
    let workspace: URL
    let sandbox: any Sandbox
    let configuration: AgentConfiguration

    /// The candidate chosen (nil when none qualifies) and what the check found, for the summary.
    struct Verdict {
        var winner: Int?
        var note: String
    }

    /// A model-written test file, under the name every cross-check run gives it: beside
    /// where its author put it, with the author in the name, so candidates' files of the
    /// same name do not collide.
    struct ModelTest {
        var author: Int
        var path: String
        var shared: String
        var content: String
    }

    /// What one run of the tests reported, per test (pytest node ids, parameters left
    /// out: a test function passes only when every case of it does).
    struct Outcome {
        var passed: Set<String> = []
        var failed: Set<String> = []
        /// Whether the run finished and its whole report was read.
        var complete = false

        func passes(_ id: String) -> Bool { passed.contains(id) && !failed.contains(id) }
    }

    static func applies(to strategy: TestStrategy) -> Bool {
        strategy.kind == .pytest && !strategy.generatedFiles.isEmpty
    }

    /// Judges the candidates that gave up holding changes; nil when none did (nothing to check).
    func choose(among candidates: [Int], copies: [WorkspaceCopy]) async -> Verdict? {
        guard Self.applies(to: strategy) else { return nil }
        let generated = Set(strategy.writtenFiles.keys)
        let pool = candidates.sorted().filter { index in
            copies[index].changes().contains { !generated.contains($0.path) && !ToolCaches.contains($0.path) }
        }
        guard !pool.isEmpty else { return nil }
        let tests = modelTests(of: pool, copies: copies)
        let shared = Set(tests.map(\.shared))

        // The workspace's own tests as they were: a candidate that edited or deleted one is
        // judged against the original, as the evidence check judges a winner.
        var originals: [String: String] = [:]
        if let original = try? WorkspaceCopy(copying: workspace, stagingRoot: configuration.stagingRoot) {
            for index in pool {
                for change in copies[index].changes() where change.kind != .added && TestFiles.isTest(change.path) {
                    if let text = original.read(change.path) { originals[change.path] = text }
                }
            }
            original.discard()
        }

        var outcomes: [Int: Outcome] = [:]
        for index in pool {
            if Task.isCancelled { return nil }
            outcomes[index] = await judge(copies[index], ownTests: tests.filter { $0.author == index }.map(\.path),
                                          tests: tests, originals: originals)
        }
        let qualified = pool.filter { index in
            guard let outcome = outcomes[index], outcome.complete else { return false }
            return passesStatedExamples(outcome) && !outcome.failed.contains { !shared.contains(Self.file(of: $0)) && !generated.contains(Self.file(of: $0)) }
        }
        // Every model test some run saw; a file that did not even import, for code that none
        // of its tests ran with, counts as one test no candidate passes.
        var universe = Set<String>()
        for outcome in outcomes.values {
            universe.formUnion(outcome.passed.union(outcome.failed).filter { shared.contains(Self.file(of: $0)) })
        }
        universe = universe.filter { id in id.contains("::") || !universe.contains { $0.hasPrefix(id + "::") } }
        let votes = Dictionary(uniqueKeysWithValues: universe.map { id in (id, pool.filter { outcomes[$0]?.passes(id) == true }.count) })
        let kept = universe.filter { votes[$0]! > 0 }
        let dropped = universe.subtracting(kept).sorted()
        let score = { (index: Int) in kept.filter { outcomes[index]!.passes($0) }.map { votes[$0]! }.reduce(0, +) }

        let droppedText = dropped.isEmpty ? "dropped no model-written test"
            : "dropped \(dropped.count) model-written test(s) no candidate satisfied ("
              + dropped.prefix(5).map { display($0, tests: tests) }.joined(separator: ", ") + (dropped.count > 5 ? ", …" : "") + ")"
        let header = "cross-checked \(pool.count) candidate(s): " + droppedText
        for index in qualified.sorted(by: { score($0) > score($1) || score($0) == score($1) && $0 < $1 }) {
            if Task.isCancelled { return nil }
            let passing = kept.filter { outcomes[index]!.passes($0) }
            if await adopt(passing, seen: universe, into: copies[index], winner: index, tests: tests) {
                return Verdict(winner: index, note: header + "; chose candidate \(index) (passes all stated examples and "
                               + "\(passing.count) of \(kept.count) kept test(s))")
            }
        }
        let why = qualified.isEmpty ? "none passes every stated example and the workspace's own tests"
            : "none passes the full tests again with the kept tests"
        return Verdict(winner: nil, note: header + "; " + why)
    }

    // MARK: - The runs

    /// Each candidate's added test files (never the workspace's own, never Doer's example
    /// file), named for the cross-check so no two collide with each other or any file.
    private func modelTests(of pool: [Int], copies: [WorkspaceCopy]) -> [ModelTest] {
        let generated = Set(strategy.writtenFiles.keys)
        var taken = Set(pool.flatMap { copies[$0].files() })
        var tests: [ModelTest] = []
        for index in pool {
            let copy = copies[index]
            for change in copy.changes().sorted(by: { $0.path < $1.path })
            where change.kind == .added && TestStrategy.isPythonTest(change.path) && !generated.contains(change.path) {
                guard let content = copy.read(change.path) else { continue }
                var suffix = "_candidate\(index)"
                while taken.contains(Self.renamed(change.path, suffix: suffix)) { suffix += "x" }
                let shared = Self.renamed(change.path, suffix: suffix)
                taken.insert(shared)
                tests.append(ModelTest(author: index, path: change.path, shared: shared, content: content))
            }
        }
        return tests
    }

    /// `tests/test_roman.py` → `tests/test_roman_candidate1.py`; `roman_test.py` →
    /// `roman_candidate1_test.py` (still a name pytest collects).
    static func renamed(_ path: String, suffix: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let stem = String(name.dropLast(3))
        let new = name.hasPrefix("test_") ? stem + suffix + ".py" : String(stem.dropLast(5)) + suffix + "_test.py"
        return folder.isEmpty ? new : folder + "/" + new
    }

    /// One candidate's code with every candidate's model tests (its own under their shared
    /// names too), the stated examples and the workspace's tests as they were.
    private func judge(_ copy: WorkspaceCopy, ownTests: [String], tests: [ModelTest], originals: [String: String]) async -> Outcome {
        guard let view = try? WorkspaceCopy(copying: copy.directory, stagingRoot: configuration.stagingRoot) else { return Outcome() }
        defer { view.discard() }
        do {
            // Emptied, not deleted: the copy has no delete, and an empty file holds no test.
            for path in ownTests { try view.write(path, "") }
            for (path, content) in originals { try view.write(path, content) }
            for (path, content) in strategy.writtenFiles { try view.write(path, content) }
            for test in tests { try view.write(test.shared, test.content) }
        } catch {
            return Outcome()
        }
        return await run(on: view.directory, modelTests: tests.map(\.shared))
    }

    /// pytest on the stated examples, the given model tests and the workspace's test
    /// folders, each test's result read from the `-rA` summary. Run in the sandbox with the
    /// run's limits, on a throw-away view, as `TestRun` runs a strategy.
    private func run(on directory: URL, modelTests: [String]) async -> Outcome {
        let generated = strategy.generatedFiles.keys.sorted()
        let command = ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=no", "-rA", "--continue-on-collection-errors"]
            + strategy.pluginArguments + generated + modelTests.sorted() + strategy.testRoots.filter { strategy.generatedFiles[$0] == nil && !modelTests.contains($0) }
            + strategy.uncollectedTests
            + strategy.knownFailures.map { $0.contains("::") ? "--deselect=\($0)" : "--ignore=\($0)" }
        let environment = strategy.environment.merging(["COLUMNS": "1000"]) { $1 }
        guard let result = try? await sandbox.run(ExecutionRequest(command: command, workspace: directory, environment: environment,
                                                                   limits: configuration.limits, applyChanges: false)) else { return Outcome() }
        var outcome = Self.outcome(of: result.stdout.text + "\n" + result.stderr.text)
        // pytest exits 1 when tests failed; anything else (interrupted, usage error, no tests,
        // killed) or a report cut short leaves results unknown, which counts as failing.
        outcome.complete = !result.timedOut && !result.stdout.truncated
            && (result.termination == .exited(0) || result.termination == .exited(1))
        return outcome
    }

    /// Test ids from pytest's short summary: `PASSED a.py::t`, `FAILED a.py::C::t[1] - why`,
    /// `ERROR a.py` (a file that did not import).
    static func outcome(of output: String) -> Outcome {
        var outcome = Outcome()
        for line in output.split(separator: "\n") {
            for prefix in ["PASSED ", "FAILED ", "ERROR "] where line.hasPrefix(prefix) {
                var id = Substring(line.dropFirst(prefix.count))
                if let dash = id.range(of: " - ") { id = id[..<dash.lowerBound] }
                if let bracket = id.firstIndex(of: "[") { id = id[..<bracket] }
                let test = id.trimmingCharacters(in: .whitespaces)
                guard !test.isEmpty else { continue }
                if prefix == "PASSED " { outcome.passed.insert(test) } else { outcome.failed.insert(test) }
            }
        }
        return outcome
    }

    static func file(of id: String) -> String {
        id.components(separatedBy: "::").first ?? id
    }

    /// Every stated example ran and passed: each test function of Doer's files (one per
    /// example) is in the report as passed. One missing from it counts as failing.
    private func passesStatedExamples(_ outcome: Outcome) -> Bool {
        for (path, content) in strategy.generatedFiles {
            let names = content.components(separatedBy: "\n").filter { $0.hasPrefix("def test_") }
                .compactMap { $0.dropFirst(4).split(separator: "(").first.map(String.init) }
            guard !names.isEmpty, !outcome.failed.contains(where: { Self.file(of: $0) == path }) else { return false }
            for name in names where !outcome.passes(path + "::" + name) { return false }
        }
        return true
    }

    private func display(_ id: String, tests: [ModelTest]) -> String {
        let file = Self.file(of: id)
        guard let test = tests.first(where: { $0.shared == file }) else { return id }
        return test.path + id.dropFirst(file.count) + " (candidate \(test.author))"
    }

    // MARK: - The winner's tests

    /// Gives the copy the kept tests its code passes — its own where they were, the others'
    /// under their shared names, the test functions it fails or that were dropped cut out —
    /// and runs the tests again: those model tests with the stated examples and the
    /// workspace's tests, then the strategy itself. Whether both passed.
    private func adopt(_ passing: Set<String>, seen universe: Set<String>, into copy: WorkspaceCopy, winner: Int,
                       tests: [ModelTest]) async -> Bool {
        var placed: [(test: ModelTest, path: String)] = []
        var removed: [String] = []
        do {
            for test in tests {
                let path = test.author == winner ? test.path : test.shared
                if passing.contains(where: { Self.file(of: $0) == test.shared }) {
                    if test.author != winner { try copy.write(path, test.content) }
                    placed.append((test, path))
                } else if test.author == winner {
                    removed.append(path)
                }
            }
        } catch {
            return false
        }
        // Every test function a run saw in the file that the winner does not pass is cut out.
        var cuts: [String: [String]] = [:]
        for (test, path) in placed {
            let prefix = test.shared + "::"
            let names = universe.filter { $0.hasPrefix(prefix) && !passing.contains($0) }.map { String($0.dropFirst(prefix.count)) }
            if !names.isEmpty { cuts[path] = names.sorted() }
        }
        if !cuts.isEmpty {
            guard let ranges = await lineRanges(cuts, in: copy.directory) else { return false }
            for (test, path) in placed where cuts[path] != nil {
                guard let cut = ranges[path] else {
                    // A file the helper could not read is left out whole rather than kept with a failing test.
                    removed.append(path)
                    continue
                }
                do { try copy.write(path, Self.removing(lines: cut, from: test.content)) } catch { return false }
            }
        }
        if !removed.isEmpty, !(await delete(removed, in: copy)) { return false }
        let kept = placed.map(\.path).filter { !removed.contains($0) }
        let check = await run(on: copy.directory, modelTests: kept)
        guard check.complete, check.failed.isEmpty, !check.passed.isEmpty, passesStatedExamples(check) else { return false }
        guard let full = try? await TestRun(strategy: strategy, sandbox: sandbox, configuration: configuration).run(on: copy) else {
            return false
        }
        return full.report.succeeded
    }

    /// Finds, with Python's own `ast` in the sandbox, the lines of the named test functions
    /// (`test_x`, `TestCase::test_x`), decorators included; a class left with nothing but
    /// cut methods goes whole, since a class without a body does not parse. Path -> [[first,
    /// last]] (1-based), or null for a file that does not parse.
    static let rangesHelper = """
    import ast, json, sys
    wanted = json.loads(sys.argv[1])
    found = {}
    for path, names in wanted.items():
        try:
            with open(path, encoding="utf-8") as source:
                tree = ast.parse(source.read())
        except Exception:
            found[path] = None
            continue
        ranges = []
        def first(node):
            return min([node.lineno] + [d.lineno for d in node.decorator_list])
        def visit(body, prefix):
            every = True
            for node in body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and prefix + node.name in names:
                    ranges.append([first(node), node.end_lineno])
                    continue
                if isinstance(node, ast.ClassDef):
                    mark = len(ranges)
                    if visit(node.body, prefix + node.name + "::") and len(ranges) > mark:
                        del ranges[mark:]
                        ranges.append([first(node), node.end_lineno])
                        continue
                every = False
            return every
        visit(tree.body, "")
        found[path] = ranges
    print(json.dumps(found))
    """

    private func lineRanges(_ cuts: [String: [String]], in directory: URL) async -> [String: [ClosedRange<Int>]]? {
        guard let argument = try? JSONSerialization.data(withJSONObject: cuts, options: [.sortedKeys]),
              let result = try? await sandbox.run(ExecutionRequest(command: ["python3", "-c", Self.rangesHelper, String(decoding: argument, as: UTF8.self)],
                                                                   workspace: directory, limits: configuration.limits, applyChanges: false)),
              result.succeeded, !result.stdout.truncated,
              let found = try? JSONSerialization.jsonObject(with: Data(result.stdout.text.utf8)) as? [String: Any] else { return nil }
        var ranges: [String: [ClosedRange<Int>]] = [:]
        for (path, value) in found {
            guard let pairs = value as? [[Int]] else { continue }
            ranges[path] = pairs.compactMap { $0.count == 2 && $0[0] <= $0[1] ? $0[0]...$0[1] : nil }
        }
        return ranges
    }

    static func removing(lines cut: [ClosedRange<Int>], from content: String) -> String {
        content.components(separatedBy: "\n").enumerated()
            .filter { line in !cut.contains { $0.contains(line.offset + 1) } }
            .map(\.element).joined(separator: "\n")
    }

    /// Deletes the winner's own test files that keep no test, through the sandbox, whose
    /// changes come back to the copy without following any link the model left there.
    private func delete(_ paths: [String], in copy: WorkspaceCopy) async -> Bool {
        guard let result = try? await sandbox.run(ExecutionRequest(command: ["rm", "-f", "--"] + paths, workspace: copy.directory,
                                                                   limits: configuration.limits, applyChanges: true)) else { return false }
        return result.succeeded && paths.allSatisfy { copy.read($0) == nil }
    }
}
