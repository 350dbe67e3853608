import DoerCore
import DoerSandbox
import Foundation

/// The workspace's own Python tests that fail before Doer changes anything. On a real
/// project some always do here: a test that opens a socket the sandbox refuses, one that
/// imports a module the machine lacks. Left in, they fail every candidate for a reason no
/// change can fix, and correct work is thrown away; so they are found once, on the
/// untouched workspace, and left out of every later run (and the plan says which).
public enum KnownFailures {
    /// At most this many are left out by name; a suite that fails more widely than that is
    /// broken as a whole, and is left to judge (and to be reported) as it is.
    static let limit = 100

    /// The strategy with the workspace's failing tests left out, or as it was when there are
    /// none, when it runs no workspace suite, or when the suite could not be run.
    ///
    /// Only failures the machine causes are left out (a refused socket, a permission the
    /// sandbox does not give, a third-party module not installed): a test that fails on an
    /// assertion may be exactly what the request asks to make pass, and one the request names
    /// always stays. A missing module the workspace could be meant to provide (the request or
    /// a file names it, or a test is named after it: `test_roman.py` before `roman.py` exists)
    /// stays too, or the user's own test of the new code would not judge it.
    static func excluding(from strategy: TestStrategy, task: String, files: [String], workspace: URL, sandbox: any Sandbox,
                          configuration: AgentConfiguration) async -> TestStrategy {
        guard strategy.kind == .pytest, files.contains(where: TestStrategy.isPythonTest) || !strategy.uncollectedTests.isEmpty else { return strategy }
        // Doer's example file is not written yet: the workspace's own tests only.
        let targets = strategy.uncollectedTests.isEmpty ? [] : strategy.testRoots + strategy.uncollectedTests
        let command = ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=no", "-rfE"] + targets
        // Wide enough that pytest does not cut the reason (and the missing module's name) short.
        let environment = strategy.environment.merging(["COLUMNS": "1000"]) { $1 }
        guard let result = try? await sandbox.run(ExecutionRequest(command: command, workspace: workspace, environment: environment,
                                                                   limits: configuration.limits, applyChanges: false)),
              !result.timedOut, !result.succeeded else { return strategy }
        let failing = failures(in: result.stdout.text + result.stderr.text, onlyFromTheMachine: true,
                               ownModule: { couldBeTheWorkspaces($0, task: task, files: files) })
            .filter { !names(of: $0).contains { task.contains($0) } }
        guard !failing.isEmpty, failing.count <= limit else { return strategy }
        var excluded = strategy
        excluded.knownFailures = failing
        return excluded
    }

    /// Node ids from pytest's short summary (`FAILED a.py::t - why`, `ERROR a.py::t`), and
    /// the files that did not import (`ERROR tests/test_x.py`, `ERROR tests/test_x.py - ImportError`).
    public static func failures(in output: String, onlyFromTheMachine: Bool = false,
                                ownModule: (String) -> Bool = { _ in false }) -> [String] {
        var found: [String] = []
        for line in output.split(separator: "\n") {
            for prefix in ["FAILED ", "ERROR "] where line.hasPrefix(prefix) {
                var id = String(line.dropFirst(prefix.count))
                var reason = ""
                if let separator = id.range(of: " - ") {
                    reason = String(id[separator.upperBound...])
                    id = String(id[..<separator.lowerBound])
                }
                if onlyFromTheMachine && !causedByTheMachine(reason, ownModule: ownModule) { continue }
                id = id.trimmingCharacters(in: .whitespaces)
                // A parametrized case leaves out the whole test: its ids hold characters a
                // command line and pytest's own parsing of --deselect handle unevenly.
                if let bracket = id.firstIndex(of: "[") { id = String(id[..<bracket]) }
                guard !id.isEmpty, !id.contains(" "), !found.contains(id) else { continue }
                found.append(id)
            }
        }
        return found
    }

    /// Errors the environment raises, not the code under test: the network, missing
    /// modules, files, permissions.
    static func causedByTheMachine(_ reason: String, ownModule: (String) -> Bool) -> Bool {
        let kind = reason.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }.split(separator: ".").last.map(String.init) ?? ""
        if kind == "ModuleNotFoundError" {
            // Only a module named in full, that the workspace is not meant to provide.
            guard let quoted = reason.range(of: "No module named '[A-Za-z0-9_.]+'", options: .regularExpression) else { return false }
            let module = reason[quoted].dropFirst("No module named '".count).dropLast()
            return !ownModule(String(module.split(separator: ".").first ?? ""))
        }
        // PackageNotFoundError and DistributionNotFound: the project reads its own installed
        // metadata (`version("toolz")`), and a source checkout is not installed.
        return ["OSError", "ConnectionError", "ConnectionRefusedError", "ConnectionResetError", "ConnectionAbortedError",
                "TimeoutError", "PermissionError", "gaierror", "herror", "URLError", "SSLError",
                "PackageNotFoundError", "DistributionNotFound"].contains(kind)
    }

    /// Whether a missing top-level module may be one the run is meant to write.
    static func couldBeTheWorkspaces(_ module: String, task: String, files: [String]) -> Bool {
        guard !module.isEmpty else { return true }
        if task.range(of: "\\b\(NSRegularExpression.escapedPattern(for: module))\\b", options: .regularExpression) != nil { return true }
        return files.contains { path in
            let parts = path.split(separator: "/").map(String.init)
            let name = parts.last ?? ""
            return parts.dropLast().contains(module) || name == module + ".py" || name == "test_\(module).py" || name == "\(module)_test.py"
        }
    }

    /// The test's function and file names, to see whether the request names it.
    static func names(of id: String) -> [String] {
        let parts = id.components(separatedBy: "::")
        return [parts.last ?? id, (parts.first.map { ($0 as NSString).lastPathComponent }) ?? ""].filter { $0.count > 3 }
    }
}
