/// Which paths are tests, by the conventions of the languages Doer runs: what a change to
/// them proves is different from what a change to the code does.
enum TestFiles {
    static let folders: Set<String> = ["test", "tests", "spec", "specs", "__tests__", "testing"]

    static func isTest(_ path: String) -> Bool {
        let components = path.split(separator: "/").map(String.init)
        guard let name = components.last?.lowercased() else { return false }
        if components.dropLast().contains(where: { folders.contains($0.lowercased()) }) { return true }
        if name.hasPrefix("test_") || name == "conftest.py" { return true }
        let stem = name.split(separator: ".").first.map(String.init) ?? name
        // Python's other conventions: unittest's `tests.py`, `test.py`, `tests_x.py`, `x_tests.py`.
        if name.hasSuffix(".py"), stem == "tests" || stem == "test" || stem.hasPrefix("tests_") || stem.hasSuffix("_tests") { return true }
        return stem.hasSuffix("_test") || stem.hasSuffix("_spec") || stem.hasSuffix("test") && name.hasSuffix(".java")
            || name.contains(".test.") || name.contains(".spec.") || stem.hasSuffix("tests") && name.hasSuffix(".cs")
            || name.hasSuffix(".bats") || name.hasSuffix(".t")
    }
}
