import Foundation

/// Finds Python functions that were declared but not written: a body of nothing but a
/// docstring, `pass` or `...`. Small models often hand back the signature and docstring
/// they were given; the failing test then says only that a result was wrong (None), and
/// the model, shown its own code, repeats it. Naming the empty function says what is
/// missing.
///
/// Only top-level functions count: an empty method is often deliberate (an abstract
/// method, a protocol), an empty module-level function in a failing run rarely is.
enum UnwrittenFunctions {
    static func names(inPython source: String) -> [String] {
        let lines = source.components(separatedBy: "\n")
        var names: [String] = []
        var index = 0
        while index < lines.count {
            guard let name = definedName(lines[index]) else { index += 1; continue }
            // The header may run over several lines; it ends at the line ending in a colon.
            var header = index
            while header < lines.count, !code(lines[header]).hasSuffix(":") { header += 1 }
            var body: [String] = []
            var next = header + 1
            while next < lines.count {
                let line = lines[next]
                if !line.trimmingCharacters(in: .whitespaces).isEmpty && !line.hasPrefix(" ") && !line.hasPrefix("\t") { break }
                body.append(line)
                next += 1
            }
            if header < lines.count, isEmpty(body) { names.append(name) }
            index = max(next, index + 1)
        }
        return names
    }

    /// `f` for `def f(` or `async def f(` at the start of a line.
    static func definedName(_ line: String) -> String? {
        let rest: Substring
        if line.hasPrefix("def ") { rest = line.dropFirst(4) } else if line.hasPrefix("async def ") { rest = line.dropFirst(10) } else { return nil }
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        return name.isEmpty ? nil : String(name)
    }

    /// A line without its comment (a `#` inside a string is rare enough in headers).
    private static func code(_ line: String) -> String {
        let withoutComment = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? line
        return withoutComment.trimmingCharacters(in: .whitespaces)
    }

    /// Whether the body holds nothing but a docstring, `pass`, `...` and comments.
    private static func isEmpty(_ body: [String]) -> Bool {
        var statements = body.map(code).filter { !$0.isEmpty }
        if let first = statements.first, let quote = ["\"\"\"", "'''"].first(where: { first.drop { "rRuUbB".contains($0) }.hasPrefix($0) }) {
            // Drop the docstring, however many lines it spans.
            let opening = first.drop { "rRuUbB".contains($0) }.dropFirst(3)
            if opening.contains(quote) {
                statements.removeFirst()
            } else if let end = statements.dropFirst().firstIndex(where: { $0.contains(quote) }) {
                statements.removeSubrange(0...end)
            } else {
                return false  // an unterminated docstring: not ours to judge
            }
        }
        return statements.allSatisfy { $0 == "pass" || $0 == "..." }
    }
}
