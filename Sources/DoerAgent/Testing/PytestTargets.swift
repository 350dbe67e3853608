import Foundation

/// What pytest must be told to collect so that a test the model added is run. A project
/// that sets `testpaths` (`tests`, `src/tests`) has pytest collect only those folders when
/// no path is given: a `test_dates.py` the model writes at the top level would never run,
/// and a candidate would "pass" on the project's suite alone. When a test file lies outside
/// the configured folders, the command names the folders and those files.
enum PytestTargets {
    /// The paths to put on pytest's command line, or none when its own collection reaches
    /// every test file of `files` (no `testpaths`, or all tests under it).
    static func arguments(files: [String], read: (String) -> String?) -> [String] {
        guard let testpaths = testpaths(read: read), !testpaths.isEmpty else { return [] }
        let outside = files.filter { path in
            TestStrategy.isPythonTest(path) && !testpaths.contains { path == $0 || path.hasPrefix($0 + "/") }
        }
        guard !outside.isEmpty else { return [] }
        let present = testpaths.filter { folder in files.contains { $0 == folder || $0.hasPrefix(folder + "/") } }
        return present + outside
    }

    /// `testpaths` from the file pytest takes its configuration from: the first of
    /// pytest.ini, pyproject.toml, tox.ini and setup.cfg that has a pytest section, as
    /// pytest itself chooses. Nil when none sets it.
    static func testpaths(read: (String) -> String?) -> [String]? {
        let sources: [(file: String, section: String)] = [
            ("pytest.ini", "pytest"), (".pytest.ini", "pytest"), ("pyproject.toml", "tool.pytest.ini_options"),
            ("tox.ini", "pytest"), ("setup.cfg", "tool:pytest"),
        ]
        for source in sources {
            guard let text = read(source.file), let body = section(source.section, in: text) else { continue }
            let values = source.file == "pyproject.toml" ? tomlStrings(key: "testpaths", in: body) : iniWords(key: "testpaths", in: body)
            return values.map(normalized).filter { !$0.isEmpty && !$0.contains("*") && !$0.split(separator: "/").contains("..") }
        }
        return nil
    }

    /// The lines of `[name]` up to the next section header, or nil when there is none.
    static func section(_ name: String, in text: String) -> String? {
        var lines: [Substring] = []
        var inside = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("[") && !trimmed.hasPrefix("[[") && trimmed.hasSuffix("]") && !line.hasPrefix(" ") && !line.hasPrefix("\t") {
                if inside { break }
                inside = trimmed.dropFirst().dropLast().trimmingCharacters(in: .whitespaces) == name
                continue
            }
            if inside { lines.append(line) }
        }
        return inside ? lines.joined(separator: "\n") : nil
    }

    /// An ini value: `key = a b` and its indented continuation lines, split on whitespace.
    static func iniWords(key: String, in body: String) -> [String] {
        var words: [String] = []
        var reading = false
        for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
            let continuation = line.hasPrefix(" ") || line.hasPrefix("\t")
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if reading && continuation && !trimmed.isEmpty {
                words += trimmed.split(whereSeparator: \.isWhitespace).map(String.init)
                continue
            }
            reading = false
            guard !continuation, let equals = trimmed.firstIndex(where: { $0 == "=" || $0 == ":" }),
                  trimmed[..<equals].trimmingCharacters(in: .whitespaces) == key else { continue }
            words += trimmed[trimmed.index(after: equals)...].split(whereSeparator: \.isWhitespace).map(String.init)
            reading = true
        }
        return words
    }

    /// A TOML value of strings: `key = ["a", 'b']` (over several lines too) or `key = "a"`.
    static func tomlStrings(key: String, in body: String) -> [String] {
        guard let start = body.range(of: "(?m)^\\s*\(NSRegularExpression.escapedPattern(for: key))\\s*=\\s*", options: .regularExpression) else { return [] }
        let rest = body[start.upperBound...]
        let value: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return [] }
            value = rest[rest.startIndex...close]
        } else {
            value = rest.prefix { $0 != "\n" }
        }
        let quoted = try! NSRegularExpression(pattern: "\"([^\"]*)\"|'([^']*)'")
        let text = String(value)
        return quoted.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            let group = match.range(at: 1).location != NSNotFound ? match.range(at: 1) : match.range(at: 2)
            return Range(group, in: text).map { String(text[$0]) }
        }
    }

    private static func normalized(_ path: String) -> String {
        var path = path
        while path.hasPrefix("./") { path.removeFirst(2) }
        while path.hasSuffix("/") { path.removeLast() }
        return path
    }
}
