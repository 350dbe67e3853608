import Foundation

extension ActionParser {
    static let knownExtensionlessNames: Set<String> = [
        "Makefile", "makefile", "GNUmakefile", "Dockerfile", "Containerfile", "Gemfile", "Rakefile",
        "Procfile", "Justfile", "justfile", "Vagrantfile", "Brewfile", "Pipfile", "LICENSE", "README",
        "CMakeLists.txt",
    ]
    static let knownDotfiles: Set<String> = [
        ".gitignore", ".gitattributes", ".dockerignore", ".env", ".env.example", ".editorconfig",
        ".prettierrc", ".eslintrc", ".eslintrc.json", ".npmrc", ".nvmrc", ".python-version",
        ".flake8", ".pylintrc", ".babelrc", ".bashrc", ".profile", ".clang-format", ".rubocop.yml",
        ".swift-version", ".tool-versions",
    ]
    static let notPaths: Set<String> = ["e.g", "i.e", "etc", "vs", "approx"]

    /// Whether a single token reads as a file name: a name with an extension that has a
    /// letter (`app.py`, `src/main.rs`), a well-known extensionless name, or a dotfile.
    /// Version numbers (`3.11`), URLs and sentences do not.
    static func isPathLike(_ token: String) -> Bool {
        let path = unwrapped(token)
        guard !path.isEmpty, path.count <= 255, !path.contains("://") else { return false }
        for scalar in path.unicodeScalars {
            if scalar.properties.isWhitespace || scalar.value < 0x20 || scalar.value == 0x7F { return false }
            if "()[]{}<>,;:=?!*|\"'`$&^%".unicodeScalars.contains(scalar) { return false }
        }
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
        if name.isEmpty { return false }
        if knownExtensionlessNames.contains(name) || knownDotfiles.contains(name) { return true }
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return false }
        let stem = name[..<dot]
        let ext = name[name.index(after: dot)...]
        if notPaths.contains(name.lowercased().trimmingDots) { return false }
        return !stem.isEmpty && stem.last != "." && (1...12).contains(ext.count)
            && ext.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" })
            && ext.contains(where: \.isLetter)
    }

    static let shellExtensions: Set<String> = ["sh", "bash", "zsh", "ksh", "fish", "command"]

    static func hasShellExtension(_ path: String) -> Bool {
        let name = unwrapped(path)
        guard let dot = name.lastIndex(of: ".") else { return false }
        return shellExtensions.contains(name[name.index(after: dot)...].lowercased())
    }

    /// Removes what models put around a path: quotes, backticks, `**`, `*`, a trailing colon.
    static func unwrapped(_ text: String) -> String {
        var text = trimmed(text)
        var changed = true
        while changed && !text.isEmpty {
            changed = false
            if text.hasSuffix(":") {
                text.removeLast()
                changed = true
            }
            for (open, close) in [("**", "**"), ("`", "`"), ("\"", "\""), ("'", "'"), ("*", "*"), ("<", ">")]
            where text.count >= open.count + close.count && text.hasPrefix(open) && text.hasSuffix(close) {
                text = String(text.dropFirst(open.count).dropLast(close.count))
                changed = true
            }
            let again = trimmed(text)
            if again != text {
                text = again
                changed = true
            }
        }
        return text
    }

    static let fileLabels = ["file name", "filename", "file path", "filepath", "file", "path", "name"]

    /// Removes a leading `File:`-style label; returns nil when there is none.
    static func removingLabel(_ text: String) -> String? {
        let lower = text.lowercased()
        for label in fileLabels where lower.hasPrefix(label) {
            var rest = text.dropFirst(label.count)
            guard let next = rest.first, next == ":" || next == " " || next == "=" else { continue }
            rest = rest.drop(while: { $0 == ":" || $0 == " " || $0 == "=" || $0 == "\t" })
            let value = unwrapped(String(rest))
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// A comment on the first content line that names the file (`# file: app.py`,
    /// `// app.js`, `<!-- file: index.html -->`), with its index in the body.
    static func fileNameComment(in body: [String]) -> (index: Int, path: String)? {
        guard let index = body.prefix(2).firstIndex(where: { !isBlank($0) }) else { return nil }
        var text = trimmed(body[index])
        let commentForms: [(open: String, close: String)] = [
            ("<!--", "-->"), ("/*", "*/"), ("//", ""), ("--", ""), ("#", ""), (";", ""), ("%", ""),
        ]
        guard let form = commentForms.first(where: { text.hasPrefix($0.open) }) else {
            // `file app.py` or `File: app.py` as the first line, with no comment marker: never
            // valid code, so the model meant it as the name.
            let lower = text.lowercased()
            for label in ["file:", "filename:", "file ", "path:"] where lower.hasPrefix(label) {
                let candidate = unwrapped(String(text.dropFirst(label.count)))
                if isPathLike(candidate) { return (index, candidate) }
            }
            return nil
        }
        if form.open == "#" && (text.hasPrefix("#!") || text.hasPrefix("#include") || text.hasPrefix("#import")) {
            return nil
        }
        text = String(text.dropFirst(form.open.count))
        if !form.close.isEmpty && text.hasSuffix(form.close) { text = String(text.dropLast(form.close.count)) }
        text = trimmed(text.drop(while: { $0 == "#" || $0 == "/" || $0 == "*" }))
        if let labelled = removingLabel(text) {
            return isPathLike(labelled) || labelled.contains("/") ? (index, labelled) : nil
        }
        let candidate = unwrapped(text)
        return isPathLike(candidate) ? (index, candidate) : nil
    }

    /// A prose line that names the file of the block after it: `**app.py**`, `` `app.py`: ``,
    /// `File: app.py`, `### app.py`, `app.py`, or a sentence ending in a colon that names
    /// exactly one file (`` Here is `app.py`: ``, `Save this as app.py:`).
    ///
    /// `strictly` keeps only the forms where the line is the name (no sentences), for blocks
    /// that usually show output. Sentences about output ("Running `app.py` prints:") never name.
    static func fileName(namedBy line: String, strictly: Bool = false) -> String? {
        var text = trimmed(line)
        let isHeading = text.hasPrefix("#")
        while text.hasPrefix("#") { text.removeFirst() }
        text = trimmed(text)
        // List markers: "- ", "* ", "1. ", "2) ".
        if text.hasPrefix("- ") || text.hasPrefix("* ") || text.hasPrefix("+ ") {
            text = trimmed(text.dropFirst(2))
        } else if let marker = text.firstIndex(where: { !$0.isNumber }), marker != text.startIndex,
            text[marker] == "." || text[marker] == ")",
            text.index(after: marker) < text.endIndex, text[text.index(after: marker)] == " "
        {
            text = trimmed(text[text.index(after: marker)...])
        }
        guard !text.isEmpty, text.count <= 300 else { return nil }

        let whole = unwrapped(text)
        if isPathLike(whole) { return whole }
        let plain = unwrapped(whole.replacingOccurrences(of: "**", with: ""))
        if let labelled = removingLabel(plain), isPathLike(labelled) { return labelled }

        // Sentences: one file, marked with backticks or bold, in a sentence that introduces
        // the block (ends with a colon) or says it is a file ("create a file named `x.py`").
        if strictly { return nil }
        let lower = text.lowercased()
        if ["output", "result", "error", "traceback", "print"].contains(where: lower.contains) { return nil }
        // Headings and whole-line bold (`### Step 1: create app.py`) introduce the block too.
        let endsWithColon = text.hasSuffix(":") || text.hasSuffix(":**") || text.hasSuffix(":*")
        let introduces = endsWithColon || isHeading || (text.hasPrefix("**") && text.hasSuffix("**"))
        let marked = Set(markedSpans(in: text).map(unwrapped).filter(isPathLike))
        if marked.count == 1 {
            if introduces || ["file", "named", "called", "save", "create"].contains(where: lower.contains) {
                return marked.first
            }
        }
        guard introduces, marked.isEmpty else { return nil }
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if let last = words.last {
            let candidate = unwrapped(String(last).trimmingCharacters(in: CharacterSet(charactersIn: "*_:`")))
            if isPathLike(candidate) { return candidate }
        }
        return nil
    }

    /// The runs of a line inside backticks or `**`.
    static func markedSpans(in text: String) -> [String] {
        var spans: [String] = []
        for delimiter in ["`", "**"] {
            let parts = text.components(separatedBy: delimiter)
            guard parts.count >= 3 else { continue }
            for index in stride(from: 1, to: parts.count - 1, by: 2) { spans.append(parts[index]) }
        }
        return spans
    }
}

extension String {
    fileprivate var trimmingDots: String {
        var text = self
        while text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
