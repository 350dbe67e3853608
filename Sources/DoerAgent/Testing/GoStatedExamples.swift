import Foundation

/// The request's stated examples (`WordCount("") should be 0`) as a Go test, so a Go
/// request can show it was done the way a Python one does: the test fails on the
/// workspace as it was and passes with the change. Without it a Go run could only be
/// verified by a test the model chose to write.
///
/// A Go test that does not compile fails every test of its package, and the model never
/// sees Doer's file, so only what is sure to compile is written: a call of a top-level
/// function one package of the workspace defines, returning one value, with arguments and
/// a wanted value that are plain literals (numbers, double-quoted strings, booleans; a
/// Python-style `'abc'` or `True` is written the Go way). Results are compared as
/// `fmt.Sprint` prints them, which compiles whatever the function returns.
enum GoStatedExamples {
    static let fileName = "doer_examples_test.go"

    /// Doer's test file (its path and text) for the request's examples, or nil when none can
    /// be written safely.
    static func file(task: String, files: [String], read: (String) -> String?) -> (path: String, content: String)? {
        var folder: String?
        var package: String?
        var tests: [String] = []
        for (expression, value) in StatedExamples.wantedValues(in: task) {
            guard let call = call(expression), let want = literal(value) else { continue }
            guard let defined = definition(of: call.name, files: files, read: read) else { continue }
            // One file of tests, in one package: examples of another package are left out.
            if let folder, folder != defined.folder { continue }
            folder = defined.folder
            package = defined.package
            let goExpression = "\(call.name)(\(call.arguments.joined(separator: ", ")))"
            tests.append("""
                func TestDoerStatedExample\(tests.count + 1)(t *testing.T) {
                \tif got, want := fmt.Sprint(\(goExpression)), fmt.Sprint(\(want)); got != want {
                \t\tt.Fatalf("stated in the request: %s should be %s, got %s", \(quoted(goExpression)), want, got)
                \t}
                }
                """)
        }
        guard let folder, let package, !tests.isEmpty else { return nil }
        let path = folder.isEmpty ? fileName : folder + "/" + fileName
        guard !files.contains(path) else { return nil }
        let content = "// Written by Doer from the request's examples.\npackage \(package)\n\nimport (\n\t\"fmt\"\n\t\"testing\"\n)\n\n"
            + tests.joined(separator: "\n\n") + "\n"
        return (path, content)
    }

    /// `Name(arg, …)` with literal arguments, written the Go way.
    static func call(_ expression: String) -> (name: String, arguments: [String])? {
        let text = expression.trimmingCharacters(in: .whitespaces)
        guard let open = text.firstIndex(of: "("), text.hasSuffix(")") else { return nil }
        let name = String(text[..<open])
        guard let first = name.first, first.isLetter || first == "_",
              name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
        let inside = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
        var arguments: [String] = []
        for piece in splitArguments(inside) {
            guard let argument = literal(piece) else { return nil }
            arguments.append(argument)
        }
        return (name, arguments)
    }

    /// A number, a string or a boolean as Go writes it; nil for anything else.
    static func literal(_ text: String) -> String? {
        let value = text.trimmingCharacters(in: .whitespaces)
        if value == "True" || value == "true" { return "true" }
        if value == "False" || value == "false" { return "false" }
        if value.range(of: #"^-?\d+(\.\d+)?$"#, options: .regularExpression) != nil { return value }
        guard value.count >= 2, let quote = value.first, quote == value.last, quote == "\"" || quote == "'" else { return nil }
        let body = value.dropFirst().dropLast()
        // Escapes differ between the languages; only plain text is carried over.
        guard !body.contains("\\"), !body.contains("\""), !body.contains("'"), !body.contains("\n") else { return nil }
        return "\"" + body + "\""
    }

    /// Top-level commas only; a quote or bracket that never closes makes it no list.
    static func splitArguments(_ text: String) -> [String] {
        if text.trimmingCharacters(in: .whitespaces).isEmpty { return [] }
        var pieces: [String] = []
        var current = ""
        var quote: Character?
        var depth = 0
        for character in text {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if "([{".contains(character) {
                depth += 1
            } else if ")]}".contains(character) {
                depth -= 1
            } else if character == ",", depth == 0 {
                pieces.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        pieces.append(current)
        return pieces
    }

    /// The folder and package of the one non-test Go file that defines `func name(` at
    /// top level returning a single value; nil when none or several do, or it returns more.
    static func definition(of name: String, files: [String], read: (String) -> String?) -> (folder: String, package: String)? {
        var found: [(folder: String, package: String)] = []
        for path in files where path.hasSuffix(".go") && !path.hasSuffix("_test.go") {
            guard let text = read(path) else { continue }
            let lines = text.components(separatedBy: "\n")
            guard let line = lines.first(where: { $0.hasPrefix("func \(name)(") }),
                  let package = lines.first(where: { $0.hasPrefix("package ") })?.dropFirst("package ".count)
                    .split(separator: " ").first.map(String.init) else { continue }
            guard returnsOneValue(line.dropFirst("func \(name)".count)) else { return nil }
            found.append(((path as NSString).deletingLastPathComponent, package))
        }
        return found.count == 1 ? found[0] : nil
    }

    /// Whether `(params) Result {` declares exactly one result.
    static func returnsOneValue(_ signature: Substring) -> Bool {
        var depth = 0
        var end: String.Index?
        for index in signature.indices {
            if signature[index] == "(" { depth += 1 }
            if signature[index] == ")" {
                depth -= 1
                if depth == 0 { end = index; break }
            }
        }
        guard let end else { return false }
        let result = signature[signature.index(after: end)...].trimmingCharacters(in: .whitespaces)
            .replacingOccurrences(of: "{", with: "").trimmingCharacters(in: .whitespaces)
        return !result.isEmpty && !result.hasPrefix("(")
    }

    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
