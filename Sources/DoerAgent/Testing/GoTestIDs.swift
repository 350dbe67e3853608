import DoerCore
import Foundation

/// Go test ids that name their file, as pytest's do (`text/words_test.go::TestWordCount`).
///
/// `go test` reports a test by its package and name, never its file; but whose test went
/// from red to green — Doer's stated examples, the project's, or one the model wrote — is
/// read from the file. A test is found by its `func TestX(` in the package's test files.
/// A package that did not compile ran no test: its id is the file the compiler named,
/// like pytest's id of a module that did not import.
enum GoTestIDs {
    /// The ids of the tests that did not pass, and of each test file a failed build names.
    /// - Parameter files: the workspace's files; `read` gives their text.
    static func failed(in report: LanguageTestReport, files: [String], read: (String) -> String?) -> [String] {
        if report.outcome == .buildFailed || report.outcome == .crashed {
            return brokenTestFiles(in: report.detail ?? "", files: files)
        }
        let tests = files.filter { $0.hasSuffix("_test.go") }.compactMap { path in read(path).map { (path: path, text: $0) } }
        var ids: [String] = []
        for test in report.tests where test.status == .failed || test.status == .errored {
            let id = Self.id(of: test, in: tests)
            if !ids.contains(id) { ids.append(id) }
        }
        return ids
    }

    /// `file::TestName/subtest`: the file is the test file of the test's package that
    /// declares its top-level function; a test no file declares keeps its package's name.
    static func id(of test: TestCaseResult, in tests: [(path: String, text: String)]) -> String {
        let top = String(test.name.prefix { $0 != "/" })
        let declaring = tests.filter { GoSource.testNames(in: $0.text).contains(top) }
        // One name may be declared by several packages: the one whose folder ends the import path.
        let chosen = declaring.first { candidate in
            let folder = (candidate.path as NSString).deletingLastPathComponent
            guard let suite = test.suite else { return true }
            return folder.isEmpty ? !suite.contains("/") || declaring.count == 1 : suite == folder || suite.hasSuffix("/" + folder)
        } ?? declaring.first
        guard let chosen else { return (test.suite.map { $0 + "." } ?? "") + test.name }
        return chosen.path + "::" + test.name
    }

    /// The test files a compiler's errors name (`text/words_test.go:8:31: undefined: Reverse`).
    static func brokenTestFiles(in detail: String, files: [String]) -> [String] {
        var found: [String] = []
        for line in detail.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            var path = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
            if path.hasPrefix("./") { path.removeFirst(2) }
            guard path.hasSuffix("_test.go"), !found.contains(path) else { continue }
            // A path relative to the package's folder: the one test file with that name.
            if !files.contains(path) {
                let named = files.filter { ($0 as NSString).lastPathComponent == path }
                guard named.count == 1 else { continue }
                path = named[0]
            }
            found.append(path)
        }
        return found
    }
}
