import DoerCore
import Foundation

/// What decides which of the workspace's tests pytest runs and how, besides the tests
/// themselves: its configuration (`pytest.ini`, or the pytest section of `pyproject.toml`,
/// `tox.ini` or `setup.cfg`) and the `conftest.py` files above the tests. A change to these
/// can pass a suite without the code passing it — `addopts = --deselect …`, a `testpaths`
/// that leaves a folder out, a new `conftest.py` with `collect_ignore` — so, like an edit to a
/// test, it is judged against the workspace's own (`RequestEvidence`).
enum TestConfiguration {
    /// Files whose pytest section is pytest's configuration, with that section's headers.
    static let sections: [String: [String]] = [
        "pytest.ini": [], ".pytest.ini": [],
        "pyproject.toml": ["[tool.pytest.ini_options]", "[tool.pytest]"],
        "tox.ini": ["[pytest]"],
        "setup.cfg": ["[tool:pytest]"],
    ]

    /// The paths among `changes` that change how the workspace's own tests are collected or
    /// run: pytest's configuration where its pytest part differs (or the file is new or gone
    /// and has one), and new `conftest.py` files in a folder at or above one of `originalFiles`'
    /// tests. `original` and `changed` read a file before and after the change (nil: absent).
    static func changed(_ changes: [FileChange], originalFiles: [String], original: (String) -> String?,
                        changed: (String) -> String?) -> [String] {
        let testFolders = Set(originalFiles.filter(TestFiles.isTest).map(folder(of:)))
        return changes.compactMap { change in
            let name = change.path.split(separator: "/").last.map(String.init) ?? change.path
            if name == "conftest.py" {
                guard change.kind == .added else { return nil }  // an edited one is a test, judged as one
                let here = folder(of: change.path)
                return testFolders.contains { here.isEmpty || $0 == here || $0.hasPrefix(here + "/") } ? change.path : nil
            }
            guard let headers = sections[name] else { return nil }
            let before = original(change.path).map { pytestPart(of: $0, headers: headers) } ?? nil
            let after = changed(change.path).map { pytestPart(of: $0, headers: headers) } ?? nil
            return before == after ? nil : change.path
        }
    }

    /// The pytest part of a configuration file: all of it for `pytest.ini` (no headers), the
    /// sections under `headers` otherwise; nil when it has none.
    static func pytestPart(of text: String, headers: [String]) -> String? {
        guard !headers.isEmpty else { return text }
        var part: [Substring] = []
        var inside = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("[") && !line.hasPrefix(" ") && !line.hasPrefix("\t") {
                // `[tool.pytest.ini_options.markers]`-style subtables belong to the section.
                inside = headers.contains { trimmed == $0 || trimmed.hasPrefix(String($0.dropLast()) + ".") }
            }
            if inside { part.append(line) }
        }
        return part.isEmpty ? nil : part.joined(separator: "\n")
    }

    private static func folder(of path: String) -> String {
        path.split(separator: "/").dropLast().joined(separator: "/")
    }
}
