import Foundation

/// The `>>>` examples in the docstring of a function the request points at, as asserts.
///
/// "Implement `ordinal` as its docstring describes" names its specification without quoting
/// it: the examples are in the workspace, written by the project's authors. They are the
/// user's values as much as examples typed into the request, so Doer tests them itself
/// rather than trusting the model to copy them right. A stale docstring of working code is
/// not a specification, so only these are read:
/// - top-level functions the request names in code form (`` `name` `` or `name(`),
/// - whose body is not written yet (a docstring and `pass`, `...` or `raise
///   NotImplementedError`), or any such function when the request sends the reader to its
///   docstring or documentation;
/// - examples that call that function on literals and expect a literal on one line, with
///   no doctest directive: anything else (a name set up by an earlier line, an object's
///   repr, an ellipsis, a traceback) could not be checked as written.
enum DocumentedExamples {
    /// Python files larger than this are not read for docstrings (generated code, vendored data).
    static let largestFile = 1_000_000
    /// At most this many files are read: the names are looked for, not indexed.
    static let mostFiles = 3_000

    static func asserts(task: String, files: [String], read: (String) -> String?) -> [String] {
        let names = namedFunctions(in: task)
        guard !names.isEmpty else { return [] }
        let pointsToDocs = ["docstring", "documented", "documentation", "its doc"].contains { task.lowercased().contains($0) }
        var asserts: [String] = []
        let sources = files.filter { $0.hasSuffix(".py") && !TestStrategy.isPythonTest($0) && !TestFiles.isTest($0) }.prefix(mostFiles)
        for path in sources {
            guard let source = read(path), source.utf8.count <= largestFile else { continue }
            for function in topLevelFunctions(in: source) where names.contains(function.name) {
                guard function.unwritten || pointsToDocs else { continue }
                for example in examples(inDocstring: function.docstring, calling: function.name) {
                    asserts += ExampleTests.asserts(fromDocstring: ">>> \(example.expression)\n\(example.expected)\n")
                }
            }
        }
        var seen = Set<String>()
        return asserts.filter { seen.insert($0).inserted }
    }

    /// Function names the request writes as code: `` `name` ``, `` `pkg.name` ``, `name(`.
    static func namedFunctions(in task: String) -> Set<String> {
        var names = Set<String>()
        let identifier = "[A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)*"
        for match in RequestFocus.matches("`(\(identifier))(?:\\(\\))?`", in: task) + RequestFocus.matches("(\(identifier))\\(", in: task) {
            if let last = match.split(separator: ".").last { names.insert(String(last)) }
        }
        return names
    }

    struct Function {
        var name: String
        var docstring: String
        /// Nothing but the docstring and `pass`, `...` or `raise NotImplementedError`.
        var unwritten: Bool
    }

    /// Top-level `def`s with a docstring.
    static func topLevelFunctions(in source: String) -> [Function] {
        let lines = source.components(separatedBy: "\n")
        var functions: [Function] = []
        var index = 0
        while index < lines.count {
            guard let name = UnwrittenFunctions.definedName(lines[index]) else { index += 1; continue }
            var header = index
            while header < lines.count, !withoutComment(lines[header]).hasSuffix(":") { header += 1 }
            var body: [String] = []
            var next = header + 1
            while next < lines.count {
                let line = lines[next]
                if !line.trimmingCharacters(in: .whitespaces).isEmpty && !line.hasPrefix(" ") && !line.hasPrefix("\t") { break }
                body.append(line)
                next += 1
            }
            if let (docstring, rest) = splitDocstring(body) {
                let statements = rest.map(withoutComment).filter { !$0.isEmpty }
                let unwritten = statements.allSatisfy { $0 == "pass" || $0 == "..." || $0.hasPrefix("raise NotImplementedError") }
                functions.append(Function(name: name, docstring: docstring, unwritten: unwritten))
            }
            index = max(next, index + 1)
        }
        return functions
    }

    /// The docstring opening `body` and the lines after it, or nil when there is none.
    private static func splitDocstring(_ body: [String]) -> (String, [String])? {
        guard let first = body.firstIndex(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else { return nil }
        let opening = body[first].trimmingCharacters(in: .whitespaces).drop { "rRuU".contains($0) }
        guard let quote = ["\"\"\"", "'''"].first(where: { opening.hasPrefix($0) }) else { return nil }
        let afterQuote = opening.dropFirst(3)
        if let close = afterQuote.range(of: quote) {
            return (String(afterQuote[..<close.lowerBound]), Array(body[(first + 1)...]))
        }
        guard let end = body[(first + 1)...].firstIndex(where: { $0.contains(quote) }) else { return nil }
        let text = ([String(afterQuote)] + body[(first + 1)..<end] + [body[end].components(separatedBy: quote)[0]]).joined(separator: "\n")
        return (text, Array(body[(end + 1)...]))
    }

    struct Example: Equatable {
        var expression: String
        var expected: String
    }

    /// The examples in `docstring` that call `function` on literals and expect one literal line.
    static func examples(inDocstring docstring: String, calling function: String) -> [Example] {
        let lines = docstring.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        var found: [Example] = []
        for (index, line) in lines.enumerated() where line.hasPrefix(">>> ") {
            let expression = String(line.dropFirst(4)).trimmingCharacters(in: .whitespaces)
            guard index + 1 < lines.count else { continue }
            let expected = lines[index + 1]
            // One expected line only: the one after it ends the example.
            let after = index + 2 < lines.count ? lines[index + 2] : ""
            guard !expected.isEmpty, !expected.hasPrefix(">>>"), after.isEmpty || after.hasPrefix(">>>") || after.hasPrefix("\"\"\"") else { continue }
            guard callsOnLiterals(expression, function: function), isLiteral(expected) else { continue }
            found.append(Example(expression: expression, expected: expected))
        }
        return found
    }

    /// `f(…)` or `module.f(…)` whose arguments are literals (keyword names allowed).
    static func callsOnLiterals(_ expression: String, function: String) -> Bool {
        guard !expression.contains("#"), expression.hasSuffix(")") else { return false }
        let code = stringsRemoved(expression)
        guard let open = code.firstIndex(of: "(") else { return false }
        let callee = code[..<open].trimmingCharacters(in: .whitespaces)
        // `list(chunked([1, 2, 3], 2))`: a generator's doctest shows it through a builtin.
        if wrappers.contains(callee) {
            let inner = expression.trimmingCharacters(in: .whitespaces).dropFirst(callee.count).drop { $0 == " " }.dropFirst().dropLast()
            return !hasTopLevelComma(stringsRemoved(String(inner))) && callsOnLiterals(String(inner), function: function)
        }
        guard callee == function || callee.hasSuffix("." + function),
              callee.split(separator: ".").allSatisfy({ isIdentifier(String($0)) }) else { return false }
        // Keyword names are not free names; `==` is not a keyword argument.
        let arguments = String(code[open...]).replacingOccurrences(of: "[A-Za-z_][A-Za-z0-9_]*\\s*=(?!=)", with: "",
                                                                  options: .regularExpression)
        return freeNames(in: arguments).isEmpty
    }

    /// Builtins a doctest wraps a call in to show its result.
    static let wrappers: Set<String> = ["list", "tuple", "set", "frozenset", "sorted", "dict", "str", "repr", "len", "next"]

    private static func hasTopLevelComma(_ code: String) -> Bool {
        var depth = 0
        for character in code {
            switch character {
            case "(", "[", "{": depth += 1
            case ")", "]", "}": depth -= 1
            case "," where depth == 0: return true
            default: break
            }
        }
        return false
    }

    /// A Python literal on one line: no names but True, False and None, no ellipsis.
    static func isLiteral(_ text: String) -> Bool {
        let code = stringsRemoved(text)
        guard !code.contains("..."), !code.hasPrefix("<"), !text.hasPrefix("Traceback"), !code.contains("#") else { return false }
        return freeNames(in: code).isEmpty
    }

    /// Identifiers that are not True, False, None or part of a number (`1e5`, `0x1F`, `2j`).
    private static func freeNames(in code: String) -> [String] {
        RequestFocus.matches("(?<![0-9A-Za-z_.])([A-Za-z_][A-Za-z0-9_]*)", in: code).filter { !["True", "False", "None"].contains($0) }
    }

    /// The code with every string literal's contents (and prefix) taken out.
    static func stringsRemoved(_ text: String) -> String {
        var result = ""
        var quote: Character?
        var escaped = false
        for character in text {
            if let open = quote {
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == open { quote = nil; result.append("0") }
                continue
            }
            if character == "'" || character == "\"" {
                // A string prefix (`u'…'`, `b"…"`, `rb'…'`) is part of the literal.
                while let last = result.last, "rRuUbBfF".contains(last) {
                    let beforeLast = result.dropLast().last
                    guard beforeLast.map({ !$0.isLetter && !$0.isNumber && $0 != "_" }) ?? true
                            || beforeLast.map({ "rRbB".contains($0) }) == true else { break }
                    result.removeLast()
                }
                quote = character
                continue
            }
            result.append(character)
        }
        return quote == nil ? result : result + "X"  // an unterminated string is not a literal
    }

    private static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.first, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    private static func withoutComment(_ line: String) -> String {
        (line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? line)
            .trimmingCharacters(in: .whitespaces)
    }
}
