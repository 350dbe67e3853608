import Foundation

/// What a request and a failure point at: names and files the request mentions, and the
/// places a traceback passes through. Scores say how sure the pointer is; they rank the
/// definitions the prompt shows first.
struct RequestFocus: Sendable, Hashable {
    /// Identifiers the request mentions, with a weight: code-formatted mentions (`name`,
    /// `name()`, snake_case, CamelCase, dotted) count more than plain words.
    var terms: [String: Double] = [:]
    /// Paths the request names, as written.
    var fileNames: [String] = []

    init(task: String) {
        let identifier = #"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"#
        func add(_ name: String, _ weight: Double) {
            for part in Self.parts(of: name) where part.count >= 2 { terms[part] = max(terms[part] ?? 0, weight) }
        }
        // `quoted` and "quoted" code.
        for match in Self.matches(#"[`'"]([^`'"\n]{1,80})[`'"]"#, in: task) {
            for inner in Self.matches("(\(identifier))", in: match) { add(inner, 3) }
        }
        // Calls: name( or obj.name(.
        for match in Self.matches("(\(identifier))\\s*\\(", in: task) { add(match, 3) }
        for match in Self.matches("(\(identifier))", in: task) {
            let codeLike = match.contains("_") || match.contains(".")
                || match.dropFirst().contains(where: \.isUppercase) && match.first!.isLowercase
                || match.first!.isUppercase && match.dropFirst().contains(where: \.isUppercase)
            add(match, codeLike ? 2 : 1)
        }
        for token in task.split(whereSeparator: { $0.isWhitespace || $0 == "," || $0 == "(" || $0 == ")" || $0 == ";" }) {
            var word = String(token)
            while let last = word.last, ".:!?`'\"".contains(last) { word.removeLast() }
            while let first = word.first, "`'\"".contains(first) { word.removeFirst() }
            let ext = (word as NSString).pathExtension
            if !ext.isEmpty, ext.count <= 5, ext.allSatisfy(\.isLetter), PatternScanner.language(for: word) != nil || word.contains("/") {
                fileNames.append(word)
            }
        }
    }

    /// `pkg.mod.func` → `func`, `mod.func`'s last part and the whole; a bare name as is.
    static func parts(of name: String) -> [String] {
        let pieces = name.split(separator: ".").map(String.init)
        guard pieces.count > 1 else { return [name] }
        // `stats.py` is a file, not a name.
        if let last = pieces.last, ["py", "js", "ts", "go", "rs", "rb", "java", "swift", "c", "h"].contains(last) { return [] }
        return [pieces.last!, pieces.suffix(2).joined(separator: ".")]
    }

    static func matches(_ pattern: String, in text: String) -> [String] {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            Range(match.range(at: match.numberOfRanges > 1 ? 1 : 0), in: text).map { String(text[$0]) }
        }
    }

    /// Functions the request writes with their parameters, in order (`median(values)`,
    /// `top_words(text, n)`): calls of names on names, not on values.
    static func signatures(in text: String) -> [(name: String, parameters: [String])] {
        let identifier = "[A-Za-z_][A-Za-z0-9_]*"
        let pattern = try! NSRegularExpression(pattern: "(?<![\\w.])(\(identifier))\\(\\s*(\(identifier)(?:\\s*,\\s*\(identifier))*)\\s*\\)")
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            guard let name = Range(match.range(at: 1), in: text), let list = Range(match.range(at: 2), in: text),
                  !["print", "if", "for", "while"].contains(String(text[name])) else { return nil }
            return (String(text[name]), text[list].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        }
    }

    /// The sentence of `text` holding `range`: from the end of the one before (a `.`, `!`,
    /// `?` or `;` followed by a space; `stats.py` ends nothing) to its own end.
    static func sentence(around range: Range<String.Index>, in text: String) -> String {
        let end = try! NSRegularExpression(pattern: "[.!?;](?=\\s|$)")
        var start = text.startIndex
        var stop = text.endIndex
        for match in end.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            guard let found = Range(match.range, in: text) else { continue }
            if found.upperBound <= range.lowerBound { start = found.upperBound }
            if found.lowerBound >= range.upperBound { stop = found.lowerBound; break }
        }
        return String(text[start..<stop]).trimmingCharacters(in: .whitespaces)
    }

    /// Places a failure's output names: Python's `File "x.py", line 12` and the
    /// `path:line` of pytest's short form and of compilers, in the order they appear (the
    /// innermost frame of a Python traceback last).
    static func locations(in failure: String) -> [(path: String, line: Int)] {
        var found: [(String, Int)] = []
        let patterns = [#"File "([^"\n]+)", line (\d+)"#, #"(?m)(?:^|[\s(])((?:[\w.-]+/)*[\w.-]+\.[A-Za-z]{1,5}):(\d+)(?::\d+)?\b"#]
        for pattern in patterns {
            guard let regex = try? NSRegularExpression(pattern: pattern) else { continue }
            for match in regex.matches(in: failure, range: NSRange(failure.startIndex..., in: failure)) {
                guard let pathRange = Range(match.range(at: 1), in: failure), let lineRange = Range(match.range(at: 2), in: failure),
                      let line = Int(failure[lineRange]) else { continue }
                let path = String(failure[pathRange])
                if path.hasPrefix("<") || path.contains("site-packages") || path.contains("/lib/python") { continue }
                found.append((path, line))
            }
        }
        return found
    }

    /// Definitions worth showing, best first, with their scores: named by the request
    /// (shared by fewer definitions is surer), in named files, on a failure's path.
    func select(in index: WorkspaceIndex, failure: String? = nil) -> [Selection] {
        var scores: [Selection.Key: Double] = [:]
        for (term, weight) in terms {
            let found = index.definitions(named: term)
            guard !found.isEmpty, weight > 1 || found.count <= 3 else { continue }
            for (path, definition) in found {
                scores[Selection.Key(path: path, qualifiedName: definition.qualifiedName, startLine: definition.startLine), default: 0]
                    += weight / Double(found.count)
            }
        }
        if let failure {
            let places = Self.locations(in: failure)
            for (order, place) in places.enumerated() {
                guard let path = index.resolve(place.path), let definition = index.files[path]?.enclosing(line: place.line) else { continue }
                // Deeper frames come later and are closer to the fault.
                let weight = 6 + Double(order) / Double(max(1, places.count)) * 4
                scores[Selection.Key(path: path, qualifiedName: definition.qualifiedName, startLine: definition.startLine), default: 0] += weight
            }
        }
        return scores.map { Selection(key: $0.key, score: $0.value) }
            .sorted { $0.score != $1.score ? $0.score > $1.score : ($0.key.path, $0.key.startLine) < ($1.key.path, $1.key.startLine) }
    }

    /// Files the request names, resolved against the index's or the workspace's paths.
    func namedFiles(among paths: [String]) -> [String] {
        var found: [String] = []
        for name in fileNames {
            let trimmed = name.hasPrefix("./") ? String(name.dropFirst(2)) : name
            if paths.contains(trimmed) { found.append(trimmed); continue }
            let matches = paths.filter { $0.hasSuffix("/" + trimmed) }
            if matches.count == 1 { found.append(matches[0]) }
        }
        return found.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
    }

    struct Selection: Sendable, Hashable {
        struct Key: Sendable, Hashable {
            var path: String
            var qualifiedName: String
            var startLine: Int
        }
        var key: Key
        var score: Double
    }
}
