import Foundation

/// The workspace's Python tests that a plain `pytest` run does not collect: its default
/// discovery takes only `test_*.py` and `*_test.py`, while projects also keep unittest
/// cases in `tests.py` (zope's `src/pkg/tests.py`, Django apps), `test.py`, or modules under
/// a tests folder named otherwise (`tests/checks.py`), run by their own runner. Left unrun,
/// a change that breaks them would count as keeping the suite green; named on pytest's
/// command line they run (pytest collects a file it is given whatever its name, and runs
/// unittest cases).
enum UncollectedTests {
    /// Files read at most; a repository with more candidates than this is sampled in path order.
    static let mostFiles = 400
    /// Larger files are not read for the check (generated code, vendored modules).
    static let largestFile = 512 * 1024

    /// The workspace's test modules pytest would not collect, in path order.
    static func find(files: [String], read: (String) -> String?) -> [String] {
        let candidates = files.filter { path in
            let name = (path as NSString).lastPathComponent
            return name.hasSuffix(".py") && !TestStrategy.isPythonTest(path) && TestFiles.isTest(path)
                && name != "conftest.py" && name != "__init__.py" && !path.split(separator: "/").contains { $0.hasPrefix(".") }
        }.sorted().prefix(mostFiles)
        return candidates.filter { path in
            guard let text = read(path), text.utf8.count <= largestFile else { return false }
            return holdsTests(text)
        }
    }

    /// A `unittest.TestCase` subclass, or a top-level `test…` function.
    static func holdsTests(_ source: String) -> Bool {
        source.range(of: #"(?m)^class\s+\w+\s*\([^)]*TestCase[^)]*\)\s*:"#, options: .regularExpression) != nil
            || source.range(of: #"(?m)^(async\s+)?def\s+test\w*\s*\("#, options: .regularExpression) != nil
    }
}
