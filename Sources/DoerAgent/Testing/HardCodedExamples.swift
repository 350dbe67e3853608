import Foundation

/// A change that writes the request's example into the code — `if n == 94: return "XCIV"` —
/// turns the example's test green and fixes nothing else: the next input of the same kind is
/// as wrong as before. The tell is plain: code the change added compares with an input of a
/// stated example and holds the value the request wants for it, which the old code did not.
/// Docstrings and comments do not count (a model may document the example it fixed).
enum HardCodedExamples {
    struct Finding: Equatable {
        /// The stated call (`to_roman(94)`) and the wanted value (`'XCIV'`).
        var expression: String
        var value: String
    }

    /// - Parameters:
    ///   - changes: per changed code file, its text before (nil for a new file) and after.
    static func find(task: String, changes: [(old: String?, new: String)]) -> [Finding] {
        let wanted = StatedExamples.wantedValues(in: task)
        guard !wanted.isEmpty else { return [] }
        var added: [String] = []
        var oldCode = ""
        for change in changes {
            let before = Set(codeLines(change.old ?? ""))
            added += codeLines(change.new).filter { !before.contains($0) }
            oldCode += (change.old.map(codeLines) ?? []).joined(separator: "\n") + "\n"
        }
        guard !added.isEmpty else { return [] }
        var found: [Finding] = []
        for (expression, value) in wanted {
            guard let valueToken = token(value), !contains(oldCode, valueToken),
                  added.contains(where: { contains($0, valueToken) }) else { continue }
            let inputs = inputTokens(of: expression)
            if inputs.contains(where: { input in added.contains { compares($0, with: input) } }) {
                found.append(Finding(expression: expression, value: value))
            }
        }
        return found
    }

    /// A value distinctive enough that finding it in code says it was copied: a string of two
    /// or more characters, a number of two or more digits, or a bracketed value.
    private static func token(_ literal: String) -> Token? {
        let text = literal.trimmingCharacters(in: .whitespaces)
        if let quote = text.first, quote == "'" || quote == "\"", text.count >= 4, text.last == quote {
            return .string(String(text.dropFirst().dropLast()))
        }
        if text.range(of: "^-?[0-9][0-9_.]*$", options: .regularExpression) != nil {
            return text.filter(\.isNumber).count >= 2 ? .number(text) : nil
        }
        if let first = text.first, "[({".contains(first), text.count >= 5 { return .spaced(text.filter { !$0.isWhitespace }) }
        return nil
    }

    private enum Token: Equatable {
        case string(String)
        case number(String)
        /// Compared with the whitespace taken out.
        case spaced(String)
    }

    /// The distinctive literals a call passes (`to_roman(94)` → 94; `parse('1h30m')` → '1h30m').
    private static func inputTokens(of expression: String) -> [Token] {
        guard let open = expression.firstIndex(of: "(") else { return [] }
        let arguments = String(expression[expression.index(after: open)...])
        let strings = (RequestFocus.matches("'([^'\\\\]{2,})'", in: arguments) + RequestFocus.matches("\"([^\"\\\\]{2,})\"", in: arguments))
            .map(Token.string)
        let withoutStrings = DocumentedExamples.stringsRemoved(arguments)
        let numbers = RequestFocus.matches("(?<![A-Za-z0-9_.])(-?[0-9][0-9_]*(?:\\.[0-9]+)?)(?![A-Za-z0-9_])", in: withoutStrings)
            .compactMap { token($0) }
        // A single bracketed argument as a whole (`spread([12, 90, 45])` → `[12,90,45]`).
        let whole = arguments.hasSuffix(")") ? String(arguments.dropLast()).trimmingCharacters(in: .whitespaces) : ""
        let bracketed = whole.first.map { "[(".contains($0) } == true ? token(whole).map { [$0] } ?? [] : []
        return strings + numbers + bracketed
    }

    /// Whether the line tests for the literal (`n == 94`, `if word == 'ox'`, `n in (94,)`): a special case.
    /// A table entry (`90: 'XC'`, `('XC', 90)`) is how some fixes are meant to be made.
    private static func compares(_ line: String, with token: Token) -> Bool {
        let literal: String
        switch token {
        case .string(let text): literal = "(?:'\(NSRegularExpression.escapedPattern(for: text))'|\"\(NSRegularExpression.escapedPattern(for: text))\")"
        case .number(let text): literal = NSRegularExpression.escapedPattern(for: text) + "(?![A-Za-z0-9_.])"
        case .spaced(let text):
            // `values == [12, 90, 45]`, `[12, 90, 45] == values`, whitespace aside.
            let compact = line.filter { !$0.isWhitespace }
            return compact.contains("==" + text) || compact.contains("!=" + text) || compact.contains(text + "==") || compact.contains(text + "!=")
        }
        // `n == 94`, `94 == n`, `n in (94, 95)`.
        return line.range(of: "(==|!=)\\s*\(literal)|\(literal)\\s*(==|!=)|\\bin\\s*[(\\[{][^)\\]}]*(?<![A-Za-z0-9_.])\(literal)",
                          options: .regularExpression) != nil
    }

    private static func contains(_ line: String, _ token: Token) -> Bool {
        switch token {
        case .string(let text): line.contains("'\(text)'") || line.contains("\"\(text)\"")
        case .number(let text): line.range(of: "(?<![A-Za-z0-9_.])\(NSRegularExpression.escapedPattern(for: text))(?![A-Za-z0-9_])",
                                           options: .regularExpression) != nil
        case .spaced(let text): line.filter { !$0.isWhitespace }.contains(text)
        }
    }

    /// The lines of Python code, without docstrings, other triple-quoted strings and comment lines.
    static func codeLines(_ text: String) -> [String] {
        let stripped = text.replacingOccurrences(of: "(?s)(\"\"\"|''').*?\\1", with: "", options: .regularExpression)
        return stripped.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
}
