public import DoerCore
import DoerLanguages
import Foundation

/// How the agent checks a candidate: the workspace's own tests when it has them,
/// otherwise tests made from the request's `>>>` examples, otherwise the tests the model
/// was asked to write. Success always means a run that passed.
public struct TestStrategy: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case pytest
        case nodeTest = "node-test"
        /// The workspace's own tests in any other catalogued language (Go, Rust, Java…),
        /// built and run by the languages catalogue, with a per-test report.
        case project
    }

    public var kind: Kind
    /// Test code Doer writes itself from the request's examples (path -> content).
    public var generatedFiles: [String: String]
    /// For `project`: the catalogue names of the languages whose tests run.
    public var languages: [String]
    /// Folders that hold the project's importable code when it is not at the top, e.g. a
    /// `src/` layout: in a checkout the package is installed into a virtualenv; in the
    /// sandbox nothing is, so the tests import it from here.
    public var importRoots: [String]
    /// The workspace's own tests that already failed before any change (pytest node ids, or
    /// test files that did not even import): left out of every run, because no change can be
    /// judged by them — a test that needs a network the sandbox does not give, a module the
    /// machine lacks. The request's tests and every other test still decide.
    public var knownFailures: [String] = []
    /// Where the workspace's own tests live (`tests`, `pkg`, `test_x.py`). A project's pytest
    /// configuration may collect only its own folders (`testpaths`), which would leave Doer's
    /// example file at the top uncollected and every example silently unrun; so when Doer
    /// writes tests, the command names them and these folders explicitly.
    public var testRoots: [String] = []
    /// The workspace's test modules pytest's own collection misses (`src/pkg/tests.py`; see
    /// `UncollectedTests`): named on every run's command line, with the test folders.
    public var uncollectedTests: [String] = []
    /// pytest plugins Doer writes at the top of the copy (path -> content) and loads with
    /// `-p` on every run: checks of rules the request states that no assert can express
    /// (`UnchangedArguments`). Never tests themselves, never part of a change.
    public var pytestPlugins: [String: String] = [:]

    /// Every file Doer writes into a copy before its tests run: the example tests and the plugins.
    public var writtenFiles: [String: String] {
        generatedFiles.merging(pytestPlugins) { test, _ in test }
    }

    /// `-p module` for each plugin.
    public var pluginArguments: [String] {
        pytestPlugins.keys.sorted().flatMap { ["-p", String($0.dropLast(".py".count)).replacingOccurrences(of: "/", with: ".")] }
    }

    /// Every test pytest can run is run and reported, past the first failure and past test
    /// files that do not import: the red → green check must see all that was red, not the
    /// first file that failed to import (which ends pytest's session before any test runs).
    public var reportsEveryFailure = false

    /// This strategy, run to see every failure (`reportsEveryFailure`).
    public var seeingEveryFailure: TestStrategy {
        var copy = self
        copy.reportsEveryFailure = true
        return copy
    }

    public init(kind: Kind, generatedFiles: [String: String] = [:], languages: [String] = [], importRoots: [String] = []) {
        self.kind = kind
        self.generatedFiles = generatedFiles
        self.languages = languages
        self.importRoots = importRoots
    }

    /// The variables the test command runs with (relative import roots resolve against the
    /// workspace, where the command starts).
    public var environment: [String: String] {
        kind == .pytest && !importRoots.isEmpty ? ["PYTHONPATH": importRoots.joined(separator: ":")] : [:]
    }

    public var command: [String] {
        switch kind {
        // The request's examples all run, each its own test, so a repair's progress can be
        // counted; a workspace's own suite stops at its first failure.
        case .pytest: ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=short"] + pluginArguments
            + (reportsEveryFailure ? ["--continue-on-collection-errors"] : generatedFiles.isEmpty ? ["-x"] : [])
            + pytestTargets + knownFailures.map { $0.contains("::") ? "--deselect=\($0)" : "--ignore=\($0)" }
        case .nodeTest: ["node", "--test"]
        case .project: ["doer", "test"] + languages.flatMap { ["--language", $0] }
        }
    }

    /// The paths a pytest run names: none when pytest's own collection finds every test;
    /// otherwise Doer's example files, the workspace's test folders and the test modules
    /// pytest would not collect by itself.
    public var pytestTargets: [String] {
        guard !generatedFiles.isEmpty || !uncollectedTests.isEmpty else { return [] }
        return generatedFiles.keys.sorted() + testRoots.filter { generatedFiles[$0] == nil } + uncollectedTests
    }

    public var description: String {
        switch kind {
        case .pytest:
            (generatedFiles.isEmpty ? "pytest on the workspace's tests (test_*.py)"
                : "pytest on the request's examples turned into asserts, plus any test_*.py")
                + (knownFailures.isEmpty ? "" : "; left out, failing before any change: "
                    + knownFailures.prefix(3).joined(separator: ", ") + (knownFailures.count > 3 ? " and \(knownFailures.count - 3) more" : ""))
        case .nodeTest: "node --test on the workspace's *.test.js files"
        case .project: "the workspace's own \(languages.map(Self.displayName).joined(separator: ", ")) tests"
            + (generatedFiles.isEmpty ? "" : ", with the request's examples as a test of their own")
        }
    }

    /// Chooses from the files present and the request.
    /// - Parameter documented: asserts from the docstrings the request points at (`DocumentedExamples`).
    /// - Parameter uncollected: the workspace's test modules pytest would not collect (`UncollectedTests`).
    /// - Parameter read: the workspace's files, for the examples of languages other than
    ///   Python, whose test must name the package the function lives in (`GoStatedExamples`).
    public static func choose(files: [String], task: String, documented: [String] = [], uncollected: [String] = [],
                              read: ((String) -> String?)? = nil) -> TestStrategy {
        let names = files.map { ($0 as NSString).lastPathComponent }
        // Python and JavaScript keep their own runners (pytest's summary, node's TAP);
        // every other language with tests goes through the catalogue.
        let others = LanguageCatalogue.languagesWithTests(in: files).map(\.name).filter { $0 != "python" && $0 != "javascript" }
        if !others.isEmpty && !names.contains(where: { $0.hasPrefix("test_") && $0.hasSuffix(".py") }) {
            var strategy = TestStrategy(kind: .project, languages: others)
            if others.contains("go"), let read, let examples = GoStatedExamples.file(task: task, files: files, read: read) {
                strategy.generatedFiles = [examples.path: examples.content]
            }
            return strategy
        }
        // "Add Reverse to strutil.go … Add tests." where there are no Go tests yet: `go test`, not pytest.
        if isGo(task: task, files: files) {
            var strategy = TestStrategy(kind: .project, languages: ["go"])
            if let read, let examples = GoStatedExamples.file(task: task, files: files, read: read) {
                strategy.generatedFiles = [examples.path: examples.content]
            }
            return strategy
        }
        if names.contains(where: isNodeTest) && !names.contains(where: { $0.hasSuffix(".py") }) {
            return TestStrategy(kind: .nodeTest)
        }
        // "Create slug.js … Add tests." where there are no tests yet: node's runner, not pytest.
        if isJavaScript(task: task, files: files) && !files.contains(where: isPythonTest) {
            return TestStrategy(kind: .nodeTest)
        }
        // The request's own examples: `>>>` lines, and calls it states a value for.
        let python = StatedExamples.isPython(task: task, files: files)
        let stated = python ? StatedExamples.asserts(in: task) + documented : []
        let examples = ExampleTests.asserts(fromDocstring: task) + stated
        let rules = python ? EmptyInputExamples.asserts(in: task).filter { !examples.contains($0) } : []
        var generated: [String: String] = [:]
        if !examples.isEmpty { generated[examplesFile] = ExampleTests.file(asserts: examples) }
        if !rules.isEmpty { generated[rulesFile] = ExampleTests.file(asserts: rules) }
        var strategy = TestStrategy(kind: .pytest, generatedFiles: generated, importRoots: pythonImportRoots(files))
        if python, let plugin = UnchangedArguments.plugin(for: task), !files.contains(plugin.path) {
            strategy.pytestPlugins[plugin.path] = plugin.content
        }
        // Named only when the command names files at all; pytest's own collection finds them otherwise.
        if !generated.isEmpty || !uncollected.isEmpty {
            strategy.testRoots = files.filter(isPythonTest).map { String($0.split(separator: "/").first ?? "") }
                .reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }.sorted()
        }
        strategy.uncollectedTests = uncollected
        return strategy
    }

    /// Doer's test of the examples the request states (calls and their values, `>>>` lines,
    /// the docstrings it points at).
    public static let examplesFile = "test_doer_examples.py"
    /// Doer's test of rules the request states in words (`EmptyInputExamples`): each must
    /// pass, but one going from red to green shows only that rule, not the request done.
    public static let rulesFile = "test_doer_stated_rules.py"

    /// A request about JavaScript: it names a `.js` or `.mjs` file, or the language, and no
    /// Python file, in a workspace without Python code.
    static func isJavaScript(task: String, files: [String]) -> Bool {
        let text = task.lowercased()
        let named = text.range(of: "\\b[\\w./-]+\\.(m?js)\\b", options: .regularExpression) != nil
            || ["javascript", "node.js", "nodejs"].contains(where: text.contains)
        return named && !text.contains(".py") && !files.contains { $0.hasSuffix(".py") }
    }

    /// A request about Go: it names a `.go` file or the language, or the workspace is a Go
    /// module, and no Python file is in the request or the workspace.
    static func isGo(task: String, files: [String]) -> Bool {
        let text = task.lowercased()
        let named = text.range(of: #"\b[\w./-]+\.go\b|\bgo\.mod\b|\bgolang\b|\bin go\b|\bgo (module|package|function|program|code|test)s?\b"#,
                               options: .regularExpression) != nil
        let module = files.contains { $0 == "go.mod" || $0.hasSuffix("/go.mod") || $0.hasSuffix(".go") }
        return (named || module) && !text.contains(".py") && !files.contains { $0.hasSuffix(".py") }
    }

    /// `src/` when the workspace keeps a Python package there (`src/NAME/__init__.py`).
    static func pythonImportRoots(_ files: [String]) -> [String] {
        files.contains { path in
            let parts = path.split(separator: "/")
            return parts.count == 3 && parts[0] == "src" && parts[2] == "__init__.py"
        } ? ["src"] : []
    }

    /// Whether the copy holds any test this strategy would run.
    func hasTests(_ files: [String]) -> Bool {
        if !generatedFiles.isEmpty || uncollectedTests.contains(where: files.contains) { return true }
        return files.contains { path in
            let name = (path as NSString).lastPathComponent
            switch kind {
            case .pytest: return Self.isPythonTest(path)
            case .nodeTest: return Self.isNodeTest(name)
            case .project: return !LanguageCatalogue.languagesWithTests(in: [path]).isEmpty
            }
        }
    }

    /// A file `node --test` runs: `*.test.js` or `*.test.mjs`.
    public static func isNodeTest(_ path: String) -> Bool {
        path.hasSuffix(".test.js") || path.hasSuffix(".test.mjs")
    }

    /// A file pytest collects as tests: `test_*.py` or `*_test.py`.
    public static func isPythonTest(_ path: String) -> Bool {
        let name = (path as NSString).lastPathComponent
        return name.hasSuffix(".py") && (name.hasPrefix("test_") || name.hasSuffix("_test.py"))
    }

    /// Reads the runner's summary line ("3 passed, 1 failed in 0.1s", "# pass 3").
    static func counts(_ output: String, kind: Kind) -> (passed: Int, failed: Int) {
        func number(before word: String) -> Int {
            guard let range = output.range(of: "(\\d+) \(word)", options: .regularExpression) else { return 0 }
            return Int(output[range].split(separator: " ").first ?? "") ?? 0
        }
        func number(after word: String) -> Int {
            guard let range = output.range(of: "# \(word) (\\d+)", options: .regularExpression) else { return 0 }
            return Int(output[range].split(separator: " ").last ?? "") ?? 0
        }
        switch kind {
        case .pytest: return (number(before: "passed"), number(before: "failed") + number(before: "error"))
        case .nodeTest: return (number(after: "pass"), number(after: "fail"))
        case .project: return (0, 0)
        }
    }
}

extension TestStrategy {
    static func displayName(_ language: String) -> String {
        (try? LanguageCatalogue.language(named: language))?.displayName ?? language
    }
}

/// Turns doctest-style examples (`>>> f(2)` followed by `4`) into asserts.
public enum ExampleTests {
    public static func asserts(fromDocstring text: String) -> [String] {
        let lines = text.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        var asserts: [String] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            guard line.hasPrefix(">>> ") else { index += 1; continue }
            let expression = String(line.dropFirst(4))
            var expected: [String] = []
            var next = index + 1
            while next < lines.count, !lines[next].isEmpty, !lines[next].hasPrefix(">>>"), !lines[next].hasPrefix("\"\"\"") {
                expected.append(lines[next])
                next += 1
            }
            if !expected.isEmpty, !expression.hasPrefix("import "), !expression.contains(" = ") {
                let want = expected.joined(separator: " ")
                asserts.append("assert (\(expression)) == (\(want)), 'example: \(escape(expression)) should be \(escape(want))'")
            }
            index = next
        }
        return asserts
    }

    /// Doer's test file for the examples. In a real repository the names an example calls
    /// live in a package (`boltons/strutils.py`, `src/isodate/duration.py`), not beside the
    /// test, so the file finds each one where the workspace defines it at top level (read
    /// with `ast`, nothing executed but the module that defines it). Files a project runs
    /// rather than imports (`setup.py`, `noxfile.py`…) are never imported.
    static func file(asserts: [String]) -> String {
        let names = calledNames(in: asserts)
        return """
        # Written by Doer from the request's examples.
        import ast, builtins, glob, importlib, os, sys
        import pytest
        _ROOT = os.path.dirname(os.path.abspath(__file__))
        sys.path.insert(0, _ROOT)
        _RUN_NOT_IMPORTED = {"setup", "conftest", "noxfile", "fabfile", "tasks", "manage", "dodo"}


        def _load(module):
            try:
                return importlib.import_module(module)
            except BaseException:
                return None


        for _path in sorted(glob.glob(os.path.join(_ROOT, "*.py"))):
            _name = os.path.basename(_path)[:-3]
            if _name.startswith("test_") or _name.endswith("_test") or _name in _RUN_NOT_IMPORTED:
                continue
            _module = _load(_name)
            if _module is not None:
                globals().update({k: v for k, v in vars(_module).items() if not k.startswith("_")})


        def _bound(tree):
            # Names a module binds at top level by import or assignment (`from datetime import date`, `RGB = namedtuple(...)`).
            names = set()
            for node in tree.body:
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
                elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    names.update(t.id for t in targets if isinstance(t, ast.Name))
            return names


        \(modulePathSource)


        def _definers(name, bound=False):
            roots = [p for p in sys.path if p and os.path.abspath(p).startswith(_ROOT)]
            found = []
            for folder, dirs, files in os.walk(_ROOT):
                dirs[:] = [d for d in dirs if not d.startswith((".", "test")) and d not in ("build", "dist", "docs", "node_modules")]
                for file in files:
                    if not file.endswith(".py") or file.startswith("test_") or file[:-3] in _RUN_NOT_IMPORTED:
                        continue
                    path = os.path.join(folder, file)
                    try:
                        with open(path, encoding="utf-8") as source:
                            tree = ast.parse(source.read())
                    except (SyntaxError, UnicodeDecodeError, OSError):
                        continue
                    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
                    if name not in (_bound(tree) if bound else defined):
                        continue
                    module = _module_of(path, [os.path.abspath(r) for r in roots])
                    if module:
                        found.append(module)
            return sorted(found, key=lambda m: (m.count("."), m))


        for _wanted in \(names):
            if _wanted in globals() or hasattr(builtins, _wanted):
                continue
            _module = _load(_wanted)
            if _module is not None:
                globals()[_wanted] = _module
                continue
            # Where it is defined; failing that, a module that imports or assigns it.
            for _owner in _definers(_wanted) + _definers(_wanted, bound=True):
                _module = _load(_owner)
                if _module is not None and hasattr(_module, _wanted):
                    globals()[_wanted] = getattr(_module, _wanted)
                    break


        \(asserts.enumerated().map { "def test_example_\($0.offset + 1)():\n    \($0.element)\n" }.joined(separator: "\n"))
        """
    }

    /// Python: the module a file is imported as from the longest of `roots` holding it
    /// (`src/pkg/mod.py` under `src` → `pkg.mod`), or None. Shared by Doer's generated files.
    static let modulePathSource = """
        def _module_of(path, roots):
            root = max((r for r in roots if path.startswith(r + os.sep)), key=len, default=None)
            if root is None:
                return None
            parts = os.path.relpath(path, root)[:-3].split(os.sep)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            return ".".join(parts) if parts and all(p.isidentifier() for p in parts) else None
        """

    /// The names the examples call or reach into (`f(` and `module.`), as a Python list.
    static func calledNames(in asserts: [String]) -> String {
        var names: [String] = []
        for assert in asserts {
            // The error a `pytest.raises(NotIntegerError)` expects is found like a called name.
            for error in RequestFocus.matches("pytest\\.raises\\(([A-Za-z_][A-Za-z0-9_]*)\\)", in: assert)
            where !names.contains(error) { names.append(error) }
            let pattern = try! NSRegularExpression(pattern: "(?<![A-Za-z0-9_.'\"])([A-Za-z_][A-Za-z0-9_]*)\\s*[(.]")
            for match in pattern.matches(in: assert, range: NSRange(assert.startIndex..., in: assert)) {
                guard let range = Range(match.range(at: 1), in: assert) else { continue }
                let name = String(assert[range])
                if !["assert", "pytest", "with", "not", "and", "or", "in", "is", "lambda"].contains(name) && !names.contains(name) {
                    names.append(name)
                }
            }
        }
        return "[" + names.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
    }
}
