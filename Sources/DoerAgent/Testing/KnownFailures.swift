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
    /// Only failures the machine causes are left out (a refused socket, a module not
    /// installed, a file or permission the sandbox does not give): a test that fails on an
    /// assertion may be exactly what the request asks to make pass, and one the request names
    /// always stays.
    static func excluding(from strategy: TestStrategy, task: String, files: [String], workspace: URL, sandbox: any Sandbox,
                          configuration: AgentConfiguration) async -> TestStrategy {
        guard strategy.kind == .pytest, files.contains(where: TestStrategy.isPythonTest) else { return strategy }
        let command = ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=no", "-rfE"]
        guard let result = try? await sandbox.run(ExecutionRequest(command: command, workspace: workspace, environment: strategy.environment,
                                                                   limits: configuration.limits, applyChanges: false)),
              !result.timedOut, !result.succeeded else { return strategy }
        let failing = failures(in: result.stdout.text + result.stderr.text, onlyFromTheMachine: true)
            .filter { !names(of: $0).contains { task.contains($0) } }
        guard !failing.isEmpty, failing.count <= limit else { return strategy }
        var excluded = strategy
        excluded.knownFailures = failing
        return excluded
    }

    /// Node ids from pytest's short summary (`FAILED a.py::t - why`, `ERROR a.py::t`), and
    /// the files that did not import (`ERROR tests/test_x.py`, `ERROR tests/test_x.py - ImportError`).
    public static func failures(in output: String, onlyFromTheMachine: Bool = false) -> [String] {
        var found: [String] = []
        for line in output.split(separator: "\n") {
            for prefix in ["FAILED ", "ERROR "] where line.hasPrefix(prefix) {
                var id = String(line.dropFirst(prefix.count))
                var reason = ""
                if let separator = id.range(of: " - ") {
                    reason = String(id[separator.upperBound...])
                    id = String(id[..<separator.lowerBound])
                }
                if onlyFromTheMachine && !causedByTheMachine(reason) { continue }
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
    static func causedByTheMachine(_ reason: String) -> Bool {
        let kind = reason.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }.split(separator: ".").last.map(String.init) ?? ""
        return ["OSError", "ConnectionError", "ConnectionRefusedError", "ConnectionResetError", "ConnectionAbortedError",
                "TimeoutError", "PermissionError", "FileNotFoundError", "ModuleNotFoundError", "ImportError", "gaierror",
                "herror", "URLError", "SSLError", "BlockingIOError", "BrokenPipeError"].contains(kind)
    }

    /// The test's function and file names, to see whether the request names it.
    static func names(of id: String) -> [String] {
        let parts = id.components(separatedBy: "::")
        return [parts.last ?? id, (parts.first.map { ($0 as NSString).lastPathComponent }) ?? ""].filter { $0.count > 3 }
    }
}
