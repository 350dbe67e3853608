import Foundation

/// The workspace's own tests are the user's: a candidate may add tests to one of their files
/// but not change or drop the ones it has, unless the request asks for that. The final check
/// judges a change against the tests as they were anyway (see `RequestEvidence`); refusing the
/// write as it happens keeps a candidate from spending its turns on a test file it broke — a
/// small model shown `tests.py` rewrites it with its own assertions, some of them wrong, some
/// cut off mid-string, and every later run fails on that instead of on the code.
enum ExistingTestGuard {
    /// Why `new` may not replace `original`, the test file at `path` as the workspace had it,
    /// or nil when it may: the file is new, the request asks to change tests, or `new` keeps
    /// every line of `original` in order and only adds. The rule is the final check's: a
    /// request that only names the file ("fix the failing test in test_io.py") is fixed in the
    /// code, so a write the check would judge against the old test is not let through.
    static func refusal(path: String, original: String?, new: String, task: String) -> String? {
        guard let original, TestFiles.isTest(path), original != new else { return nil }
        if RequestEvidence.asksToChangeTests(task) { return nil }
        guard !onlyAdds(to: original, new: new) else { return nil }
        return "Doer kept \(path) as it was: it is one of the workspace's own tests, which are the user's. "
            + "You may add tests after the ones it has, or in a new test file, but not change or remove its tests; "
            + "change the code so they pass."
    }

    /// Whether every non-blank line of `old` is in `new`, in the same order (trailing spaces
    /// aside), an import line possibly importing more names: a test added for a new function
    /// imports it on the line that imports the old ones.
    static func onlyAdds(to old: String, new: String) -> Bool {
        let newLines = lines(new)
        var next = newLines.startIndex
        for line in lines(old) {
            guard let found = newLines[next...].firstIndex(where: { keeps(line, $0) }) else { return false }
            next = newLines.index(after: found)
        }
        return true
    }

    /// Whether `new` is `old`, or the same one-line import with names added.
    static func keeps(_ old: Substring, _ new: Substring) -> Bool {
        if old == new { return true }
        guard let oldImport = importedNames(old), let newImport = importedNames(new) else { return false }
        return oldImport.module == newImport.module && oldImport.names.isSubset(of: newImport.names)
    }

    /// `from M import a, b as c` → (M, {a, b as c}); `import a, b` → ("", {a, b}); nil for anything else.
    private static func importedNames(_ line: Substring) -> (module: String, names: Set<String>)? {
        let words = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
        func names(_ list: Substring) -> Set<String>? {
            guard !list.contains("("), !list.contains("\\"), !list.contains("#") else { return nil }
            let parts = list.split(separator: ",").map { $0.split(separator: " ").joined(separator: " ") }
            return parts.contains(where: \.isEmpty) ? nil : Set(parts)
        }
        if words.count == 4, words[0] == "from", words[2] == "import", let imported = names(words[3]) {
            return (String(words[1]), imported)
        }
        if words.first == "import", line.hasPrefix("import "), let imported = names(line.dropFirst("import ".count)) {
            return ("", imported)
        }
        return nil
    }

    private static func lines(_ text: String) -> [Substring] {
        text.split(separator: "\n").map { line in
            var line = line
            while line.last?.isWhitespace == true { line = line.dropLast() }
            return line
        }.filter { !$0.isEmpty }
    }
}
