import Foundation

/// The examples a request states in prose — `greet('Ada') == 'Hello, Ada!'`, "to_roman(1994)
/// returns 'MCMXCIV'", "spread([1, 5, 3]) returns 0 but it should be 4", "parse('') raises
/// ValueError" — as Python asserts. The values a person states are the specification, so
/// Doer writes these tests itself instead of trusting the model's. Only calls compared with
/// a Python literal are taken (numbers, strings, lists, tuples, dicts, sets, True, False,
/// None, or a constructor on such values as a repr shows it: `IntegerRGB(red=128, …)`);
/// anything else is left to the model.
enum StatedExamples {
    static func asserts(in task: String) -> [String] {
        examples(in: task).map { example in
            switch example.claim {
            case .equals(let value):
                "assert (\(example.expression)) == (\(value)), 'stated in the request: \(escape(example.expression)) should be \(escape(value))'"
            case .raises(let error):
                "with pytest.raises(\(error)):\n        \(example.expression)"
            }
        }
    }

    /// The stated calls and the values the request wants from them (`to_roman(94)`, `'XCIV'`).
    static func wantedValues(in task: String) -> [(expression: String, value: String)] {
        examples(in: task).compactMap { example in
            if case .equals(let value) = example.claim { (example.expression, value) } else { nil }
        }
    }

    private struct Example: Equatable {
        var expression: String
        var claim: Claim
    }

    private static func examples(in task: String) -> [Example] {
        var asserts: [Example] = []
        func add(_ expression: String, _ claim: Claim) {
            let example = Example(expression: expression, claim: claim)
            if !asserts.contains(example) { asserts.append(example) }
        }
        // A quoted expression (`date(1900, 1, 31) + Duration(months=1)`, `f(x).g()`) is
        // the example as a whole: the calls inside it are not examples of their own.
        var text = Array(task)
        let unquoted = text.map { $0 == "`" ? " " : $0 }
        for span in quotedSpans(text) {
            let expression = String(text[(span.lowerBound + 1)..<(span.upperBound - 1)]).trimmingCharacters(in: .whitespaces)
            guard expression.contains("("), !expression.hasPrefix(">>>"), let claim = Self.claim(in: unquoted, after: span.upperBound) else { continue }
            add(expression, claim)
            for index in span { text[index] = " " }
        }
        let characters = text.map { $0 == "`" ? " " : $0 }
        var index = 0
        while index < characters.count {
            guard let call = Self.call(in: characters, at: index) else { index += 1; continue }
            index = call.end
            // `>>>` lines are the doctest reader's.
            let lineStart = characters[..<call.start].lastIndex(of: "\n").map { $0 + 1 } ?? 0
            if String(characters[lineStart..<call.start]).trimmingCharacters(in: .whitespaces).hasPrefix(">>>") { continue }
            // A call inside a larger expression (`a + f(x)`, `g(f(x))`) is not what the claim is about.
            let before = characters[..<call.start].last { !$0.isWhitespace }
            if let before, "+-*/%<>=&|^,([{~".contains(before) && call.start > lineStart { continue }
            guard let claim = Self.claim(in: characters, after: call.end) else { continue }
            add(call.text, claim)
        }
        return asserts
    }

    /// Single-backtick spans on one line, as index ranges including the backticks.
    private static func quotedSpans(_ characters: [Character]) -> [Range<Int>] {
        var spans: [Range<Int>] = []
        var open: Int?
        for (index, character) in characters.enumerated() {
            if character == "\n" { open = nil }
            guard character == "`" else { continue }
            let fence = index + 1 < characters.count && characters[index + 1] == "`" || index > 0 && characters[index - 1] == "`"
            if fence { open = nil; continue }
            if let start = open { spans.append(start..<(index + 1)); open = nil } else { open = index }
        }
        return spans
    }

    /// Whether the request is about Python, where these asserts can run.
    static func isPython(task: String, files: [String]) -> Bool {
        let text = task.lowercased()
        let others = [".js", ".ts", ".go", ".rs", ".java", ".rb", ".php", ".c ", ".cpp", ".cs", ".swift", ".kt", ".lua", ".pl",
                      "javascript", "typescript", "golang", "rust", "java ", "ruby", "kotlin"]
        if others.contains(where: { text.contains($0) }) && !text.contains(".py") { return false }
        return text.contains(".py") || text.contains("python") || files.contains { $0.hasSuffix(".py") } || files.isEmpty
            || !files.contains { !$0.hasSuffix(".md") && !$0.hasSuffix(".txt") }
    }

    private struct Call {
        var start: Int
        var end: Int
        var text: String
    }

    /// `name(args)` starting at `index`, with balanced brackets and quotes.
    private static func call(in characters: [Character], at index: Int) -> Call? {
        guard characters[index].isLetter || characters[index] == "_" else { return nil }
        if index > 0, characters[index - 1].isLetter || characters[index - 1].isNumber || characters[index - 1] == "_"
            || characters[index - 1] == "." { return nil }
        var cursor = index
        // A dotted name (`inflection.ordinalize(113)`, `Duration.parse(s)`) is one call.
        while cursor < characters.count, characters[cursor].isLetter || characters[cursor].isNumber || characters[cursor] == "_"
                || characters[cursor] == "." && cursor + 1 < characters.count && (characters[cursor + 1].isLetter || characters[cursor + 1] == "_") {
            cursor += 1
        }
        guard cursor < characters.count, characters[cursor] == "(", let close = balanced(characters, from: cursor) else { return nil }
        let name = String(characters[index..<cursor])
        guard !["print", "if", "for", "while", "e.g", "i.e"].contains(name) else { return nil }
        return Call(start: index, end: close + 1, text: String(characters[index...close]))
    }

    private enum Claim: Equatable {
        case equals(String)
        case raises(String)
    }

    /// What the words after a call say it gives: `== v`, `-> v`, `returns v`, `should be v`,
    /// `returns v but it should be w` (w), `raises E`.
    private static func claim(in characters: [Character], after end: Int) -> Claim? {
        let rest = String(characters[end..<min(characters.count, end + 400)])
        let patterns = ["^\\s*(==|->|→|=>)\\s*", "^\\s*(should|must|will)\\s+(return|give|be|equal)\\s+",
                        "^\\s*(returns|gives|is|equals|evaluates to)\\s+"]
        if let raised = rest.range(of: "^\\s*(should\\s+|must\\s+)?raises?\\s+([A-Z][A-Za-z]*(Error|Exception))", options: .regularExpression) {
            let name = rest[raised].split(separator: " ").last.map(String.init) ?? ""
            // "raises ValueError: …, but it should return 3": the error is what is wrong, 3 is wanted.
            let sentence = rest[raised.upperBound...].prefix { $0 != "\n" }
            if let correction = sentence.range(of: "\\b(but|instead)\\b[^.]*?\\b(should|must)\\s+(be|return|give)\\s+", options: .regularExpression) {
                return literal(Array(sentence[correction.upperBound...]), at: 0).map { .equals($0.text) }
            }
            // "raises KeyError but it should not": the error is the defect; what is wanted is not stated.
            let wanted = rest[raised].contains("should") || rest[raised].contains("must")
            if !wanted, sentence.range(of: "\\b(but|instead)\\b", options: .regularExpression) != nil { return nil }
            return .raises(name.trimmingCharacters(in: .whitespaces))
        }
        for pattern in patterns {
            guard let lead = rest.range(of: pattern, options: .regularExpression) else { continue }
            let afterLead = Array(rest[lead.upperBound...])
            guard let first = literal(afterLead, at: 0) else { return nil }
            // "returns 0 but it should be 4", "returns 0 instead of 4": the second is wanted.
            let tail = String(afterLead[first.end...])
            // "returns '<a>…</a>', but it should raise ValueError: …": the error is wanted.
            if let raise = tail.range(of: "^[\\s,;]*(but|when|while|whereas)?\\s*(it\\s+|they\\s+)?(should|must)\\s+raises?\\s+[A-Z][A-Za-z]*(Error|Exception)\\b",
                                      options: .regularExpression) {
                return .raises(String(tail[raise].split(separator: " ").last ?? ""))
            }
            if let correction = tail.range(of: "^[\\s,;]*(but|when|while|whereas)?\\s*(it\\s+|they\\s+)?(should|must)\\s+(be|return|give)\\s+|^\\s*instead\\s+of\\s+",
                                           options: .regularExpression) {
                let wanted = Array(tail[correction.upperBound...])
                return literal(wanted, at: 0).map { .equals($0.text) }
            }
            if pattern.contains("returns") && tail.range(of: "^\\s*(but|instead)", options: .regularExpression) != nil { return nil }
            return .equals(first.text)
        }
        return nil
    }

    /// A Python literal at `index`: a string, a number, a bracketed value, True, False or None.
    private static func literal(_ characters: [Character], at index: Int) -> (text: String, end: Int)? {
        guard index < characters.count else { return nil }
        let first = characters[index]
        if first == "'" || first == "\"" {
            var cursor = index + 1
            while cursor < characters.count, characters[cursor] != first {
                if characters[cursor] == "\\" { cursor += 1 }
                if characters[cursor] == "\n" { return nil }
                cursor += 1
            }
            guard cursor < characters.count else { return nil }
            return (String(characters[index...cursor]), cursor + 1)
        }
        if "[({".contains(first) {
            guard let close = balanced(characters, from: index) else { return nil }
            return (String(characters[index...close]), close + 1)
        }
        let word = String(characters[index...].prefix { $0.isLetter || $0.isNumber || "._-+e".contains($0) })
        if ["True", "False", "None"].contains(word) { return (word, index + word.count) }
        if let value = constructed(characters, at: index) { return value }
        let number = String(characters[index...].prefix { $0.isNumber || $0 == "." || $0 == "-" })
        let trimmed = number.hasSuffix(".") ? String(number.dropLast()) : number
        if !trimmed.isEmpty, Double(trimmed) != nil { return (trimmed, index + trimmed.count) }
        return nil
    }

    /// Builtins whose call is a value as a literal is.
    private static let valueTypes: Set<String> = ["set", "frozenset", "bytes", "bytearray", "complex", "float", "int", "tuple", "list", "dict", "range"]

    /// A value written as a constructor call on literals — `IntegerRGB(red=128, green=51, blue=26)`,
    /// `datetime.date(1900, 2, 28)`, `Decimal('1.5')` — as a person copies it from a repr: a
    /// dotted name, a capitalised one or a builtin value type, whose arguments hold no name but
    /// keywords, True, False, None and further such calls.
    private static func constructed(_ characters: [Character], at index: Int) -> (text: String, end: Int)? {
        let name = String(characters[index...].prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." })
        let end = index + name.count
        guard let first = name.first, first.isLetter || first == "_", !name.hasSuffix("."), end < characters.count, characters[end] == "(",
              name.contains(".") || name.split(separator: ".").last?.first?.isUppercase == true || valueTypes.contains(name),
              let close = balanced(characters, from: end) else { return nil }
        let text = String(characters[index...close])
        let code = DocumentedExamples.stringsRemoved(String(characters[end...close]))
            .replacingOccurrences(of: "[A-Za-z_][A-Za-z0-9_]*\\s*=(?!=)", with: "", options: .regularExpression)
        // Every name left is a callee (`x(` or `module.`) or True, False, None.
        let free = RequestFocus.matches("(?<![0-9A-Za-z_.])([A-Za-z_][A-Za-z0-9_]*)(?![A-Za-z0-9_]*\\s*[(.])", in: code)
            .filter { !["True", "False", "None"].contains($0) }
        return free.isEmpty ? (text, close + 1) : nil
    }

    /// The index of the bracket closing the one at `start`, skipping quoted text.
    private static func balanced(_ characters: [Character], from start: Int) -> Int? {
        let pairs: [Character: Character] = ["(": ")", "[": "]", "{": "}"]
        var stack: [Character] = []
        var cursor = start
        var quote: Character?
        while cursor < characters.count {
            let character = characters[cursor]
            if let open = quote {
                if character == "\\" { cursor += 1 } else if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if let close = pairs[character] {
                stack.append(close)
            } else if character == stack.last {
                stack.removeLast()
                if stack.isEmpty { return cursor }
            } else if ")]}".contains(character) || character == "\n" && stack.count > 3 {
                return nil
            }
            cursor += 1
        }
        return nil
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'").replacingOccurrences(of: "\n", with: " ")
    }
}
