extension ActionParser {
    /// An opening code fence: three or more backticks or tildes and an info string.
    struct Fence {
        /// Columns of leading white space (a tab counts 4).
        var indentation: Int
        var character: Unicode.Scalar
        var length: Int
        var info: String

        init?(opening line: String) {
            var scalars = line.unicodeScalars[...]
            var indentation = 0
            while let first = scalars.first, first == " " || first == "\t" {
                indentation += first == "\t" ? 4 : 1
                scalars.removeFirst()
            }
            guard let character = scalars.first, character == "`" || character == "~" else { return nil }
            var length = 0
            while scalars.first == character {
                length += 1
                scalars.removeFirst()
            }
            guard length >= 3 else { return nil }
            let info = ActionParser.trimmed(String(Substring(scalars)))
            // ```python print(1)``` on one line is inline code, not a fence.
            if character == "`" && info.contains("```") { return nil }
            self.indentation = indentation
            self.character = character
            self.length = length
            self.info = info
        }

        /// A closing fence: the same character at least as many times, nothing else, and
        /// indented at most three columns more than the opening fence.
        func isClosed(by line: String) -> Bool {
            var scalars = line.unicodeScalars[...]
            var columns = 0
            while let first = scalars.first, first == " " || first == "\t" {
                columns += first == "\t" ? 4 : 1
                scalars.removeFirst()
            }
            guard columns <= indentation + 3 else { return false }
            var count = 0
            while scalars.first == character {
                count += 1
                scalars.removeFirst()
            }
            return count >= length && scalars.allSatisfy(ActionParser.isBlankScalar)
        }

        /// Content lines lose as much leading white space as the opening fence had.
        func removingIndentation(from line: String) -> String {
            guard indentation > 0 else { return line }
            var scalars = line.unicodeScalars[...]
            var removed = 0
            while removed < indentation, let first = scalars.first, first == " " || first == "\t" {
                let width = first == "\t" ? 4 : 1
                if removed + width > indentation { break }
                removed += width
                scalars.removeFirst()
            }
            return String(Substring(scalars))
        }
    }

    static func isMarkdownPath(_ path: String) -> Bool {
        let lower = unwrapped(path).lowercased()
        return lower.hasSuffix(".md") || lower.hasSuffix(".markdown") || lower.hasSuffix(".mdx")
    }

    static let diffLanguages: Set<String> = ["diff", "patch", "udiff"]

    /// What an info string says a block is.
    struct BlockHeader {
        enum Keyword { case file, edit, run }

        var keyword: Keyword?
        /// The language tag, lowercased (`python`, `bash`), when there is one.
        var language: String?
        /// The path as written, before normalisation.
        var path: String?
        /// For `run COMMAND`: the command on the fence line.
        var inlineCommand: String?

        static let pathKeys: Set<String> = ["file", "filename", "path", "title", "name"]
        static let fileKeywords: Set<String> = ["file", "write"]
        static let markdownLanguages: Set<String> = ["markdown", "md"]

        init(info: String) {
            var tokens = Self.tokens(of: info)
            guard !tokens.isEmpty else { return }
            var first = tokens.removeFirst()
            // Pandoc's {.python} and the like.
            if first.hasPrefix("{") && first.hasSuffix("}") && first.count > 2 {
                first = String(first.dropFirst().dropLast())
                if first.hasPrefix(".") { first.removeFirst() }
            }
            // `python:app.py`, `file:app.py`, `file=app.py`.
            if !first.contains("://"), let separator = first.firstIndex(where: { $0 == ":" || $0 == "=" }) {
                let word = String(first[..<separator])
                let rest = String(first[first.index(after: separator)...])
                if word.count > 1, word.allSatisfy(Self.isLanguageCharacter) {
                    let lower = word.lowercased()
                    if first[separator] == "=" && Self.pathKeys.contains(lower) {
                        first = "file"
                    } else {
                        first = word
                    }
                    if !rest.isEmpty { tokens.insert(rest, at: 0) }
                }
            }
            let keyed = tokens.lazy.compactMap(Self.keyedPath).first

            switch first.lowercased() {
            case let word where Self.fileKeywords.contains(word):
                keyword = .file
                path = keyed ?? Self.joinedPath(tokens)
            case "edit":
                keyword = .edit
                path = keyed ?? Self.joinedPath(tokens)
            case "run":
                keyword = .run
                let command = ActionParser.trimmed(info.drop(while: { !$0.isWhitespace }))
                inlineCommand = command.isEmpty ? nil : command
            default:
                if !first.allSatisfy(Self.isLanguageCharacter), ActionParser.isPathLike(first) {
                    path = first
                } else {
                    language = first.lowercased()
                    path = keyed ?? tokens.first(where: { ActionParser.isPathLike($0) })
                }
            }
        }

        /// A header that can only mean "a new action starts here".
        var isExplicitAction: Bool { keyword != nil || path != nil }

        /// Blocks whose content is Markdown, where fences nest.
        var holdsMarkdown: Bool {
            if let path { return ActionParser.isMarkdownPath(path) }
            return keyword == nil && language.map(Self.markdownLanguages.contains) == true
        }

        /// A ```markdown block around the whole reply, whose inner blocks are the actions.
        var wrapsReply: Bool {
            keyword == nil && path == nil && language.map(Self.markdownLanguages.contains) == true
        }

        static func isLanguageCharacter(_ character: Character) -> Bool {
            character.isLetter || character.isNumber || character == "+" || character == "-"
                || character == "#" || character == "_"
        }

        static func keyedPath(_ token: String) -> String? {
            guard let equals = token.firstIndex(of: "=") else { return nil }
            let key = token[..<equals].lowercased()
            let value = ActionParser.unwrapped(String(token[token.index(after: equals)...]))
            return pathKeys.contains(key) && !value.isEmpty ? value : nil
        }

        static func joinedPath(_ tokens: [String]) -> String? {
            var tokens = tokens.map(ActionParser.unwrapped)
            // `pkg/__init__.py (103)`, `app.py (56 lines)`: a note after the path, not part of its name.
            if let note = tokens.firstIndex(where: { $0.hasPrefix("(") }), note > 0, tokens.last?.hasSuffix(")") == true,
               ActionParser.isPathLike(tokens[..<note].joined(separator: " ")) {
                tokens = Array(tokens[..<note])
            }
            let joined = tokens.joined(separator: " ")
            return joined.isEmpty ? nil : joined
        }

        /// Splits on white space, keeping quoted runs ("my file.py", `app.py`) whole.
        static func tokens(of info: String) -> [String] {
            var tokens: [String] = []
            var current = ""
            var quote: Character?
            for character in info {
                if let open = quote {
                    current.append(character)
                    if character == open { quote = nil }
                } else if character.isWhitespace {
                    if !current.isEmpty { tokens.append(current) }
                    current = ""
                } else {
                    if character == "\"" || character == "'" || character == "`" { quote = character }
                    current.append(character)
                }
            }
            if !current.isEmpty { tokens.append(current) }
            return tokens
        }
    }
}
