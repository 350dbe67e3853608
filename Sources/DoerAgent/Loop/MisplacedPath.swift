import Foundation

/// A model shown `src/roman/__init__.py` tends to write `roman/__init__.py`: the path as
/// the code imports it, not where it lies. Written as given, that is a second copy of the
/// package, which the tests may import instead of the real one, and the real file stays
/// unchanged. When a write or edit names a file that does not exist, and exactly one file
/// of the workspace ends with that path and is plainly the one meant, it goes there.
enum MisplacedPath {
    /// The existing file `path` means, or nil when it exists, or when no single file is
    /// plainly meant. Plainly: an edit whose SEARCH text is in that file; a write of Python
    /// that defines a function or class that file defines.
    static func intended(_ path: String, search: String? = nil, content: String? = nil, files: [String], read: (String) -> String?) -> String? {
        if let test = goTest(path), content.map({ !GoSource.testNames(in: $0).isEmpty }) ?? (!files.contains(path) && files.contains(test)) {
            return test
        }
        guard !files.contains(path) else { return nil }
        if let listed = listed(path, files: files) { return listed }
        let matches = files.filter { $0.hasSuffix("/" + path) }
        guard matches.count == 1, let match = matches.first, let existing = read(match) else { return nil }
        if let search { return existing.contains(search) ? match : nil }
        guard let content else { return nil }
        guard path.hasSuffix(".py") else { return nil }
        let defined = Set(definedNames(existing))
        return definedNames(content).contains(where: defined.contains) ? match : nil
    }

    /// A Go test named the Python way (`test_reverse.go`): Go builds it as code, not as a
    /// test, and every build of its package fails ("found packages strutil and strutil_test").
    /// Meant is `reverse_test.go`, in the same folder.
    static func goTest(_ path: String) -> String? {
        let name = (path as NSString).lastPathComponent
        guard name.hasPrefix("test_"), name.hasSuffix(".go"), !name.hasSuffix("_test.go"), name.count > "test_.go".count else { return nil }
        let folder = (path as NSString).deletingLastPathComponent
        let renamed = String(name.dropFirst("test_".count).dropLast(".go".count)) + "_test.go"
        return folder.isEmpty ? renamed : folder + "/" + renamed
    }

    /// A path copied from the prompt's list of files with its annotations still on it
    /// (`- tests/test_a.py (16): test_one, test_two`, `src/a.py, partly shown`): the file it
    /// names, when that exists. Written as given, it became a new file whose name no test
    /// runner reads, and the file meant stayed as it was.
    static func listed(_ path: String, files: [String]) -> String? {
        var text = Substring(path.trimmingCharacters(in: .whitespaces))
        if text.hasPrefix("- ") { text = text.dropFirst(2) }
        if files.contains(String(text)) { return String(text) }
        for marker in [#" \(\d+\)"#, #", partly shown"#, #": "#] {
            guard let range = text.range(of: marker, options: .regularExpression) else { continue }
            let named = String(text[..<range.lowerBound])
            if files.contains(named) { return named }
        }
        return nil
    }

    /// Top-level `def` and `class` names of Python source.
    static func definedNames(_ source: String) -> [String] {
        source.components(separatedBy: "\n").compactMap { line in
            for prefix in ["def ", "async def ", "class "] where line.hasPrefix(prefix) {
                let name = line.dropFirst(prefix.count).prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                return name.isEmpty ? nil : String(name)
            }
            return nil
        }
    }
}
