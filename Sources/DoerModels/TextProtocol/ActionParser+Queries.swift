public import DoerCore
import Foundation

/// The blocks that ask to see part of the workspace rather than change it (see
/// `ActionProtocol`, "Looking things up"): `read PATH [START-END]`, `search TEXT [in PATH]`
/// and `definitions [PATH]`. Their arguments sit on the fence line or, when it holds only
/// the keyword, on the block's first line.
extension ActionParser {
    enum QueryKeyword { case read, search, definitions }

    static let queryKeywords: [String: QueryKeyword] = [
        "read": .read, "view": .read,
        "search": .search,
        "definitions": .definitions, "defs": .definitions, "symbols": .definitions, "outline": .definitions,
    ]

    /// Reads a query block into `state`; false when the block is not one.
    func parseQuery(info: String, body: [String], line: Int, into state: inout ParseState) -> Bool {
        let trimmedInfo = Self.trimmed(info)
        let word = String(trimmedInfo.prefix { !$0.isWhitespace })
        guard let keyword = Self.queryKeywords[word.lowercased()] else { return false }
        var rest = Self.trimmed(trimmedInfo.dropFirst(word.count))
        if rest.isEmpty, let first = body.first(where: { !Self.isBlank($0) }) { rest = Self.trimmed(first) }
        switch keyword {
        case .read:
            guard let (rawPath, start, end) = Self.pathAndRange(rest) else {
                state.problem(line, "read block without a file name; write it like ```read src/app.py 120-180")
                return true
            }
            guard let path = resolvePath(rawPath, line: line, into: &state) else { return true }
            state.queries.append(.readRange(path: path, startLine: start, endLine: end))
        case .search:
            var text = rest
            var scope: String?
            // `search parse_header in src/` names where to look.
            if let range = text.range(of: " in ", options: .backwards) {
                let tail = Self.unwrapped(Self.trimmed(text[range.upperBound...]))
                if !tail.contains(" "), tail.contains("/") || Self.isPathLike(tail) {
                    scope = tail
                    text = Self.trimmed(text[..<range.lowerBound])
                }
            }
            text = Self.unquoted(text)
            guard !text.isEmpty else {
                state.problem(line, "search block without text; write it like ```search parse_header")
                return true
            }
            var path: String?
            if let scope {
                guard let resolved = resolvePath(scope, line: line, into: &state) else { return true }
                path = resolved
            }
            state.queries.append(.search(text: text, path: path))
        case .definitions:
            let raw = Self.unwrapped(rest)
            if raw.isEmpty || raw == "." {
                state.queries.append(.listDefinitions(path: nil))
            } else if let path = resolvePath(raw, line: line, into: &state) {
                state.queries.append(.listDefinitions(path: path))
            }
        }
        return true
    }

    /// `src/app.py 120-180`, `src/app.py:120-180`, `src/app.py lines 120 to 180`, `src/app.py 120`.
    static func pathAndRange(_ text: String) -> (String, Int?, Int?)? {
        var tokens = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard !tokens.isEmpty else { return nil }
        var path = unwrapped(tokens.removeFirst())
        var numbers: [Int] = []
        if let colon = path.lastIndex(of: ":"), colon != path.startIndex {
            let suffix = String(path[path.index(after: colon)...])
            let parts = suffix.split(whereSeparator: { $0 == "-" || $0 == ":" || $0 == "," }).compactMap { Int($0) }
            if !parts.isEmpty {
                numbers = parts
                path = String(path[..<colon])
            }
        }
        for token in tokens {
            numbers += token.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        }
        guard !path.isEmpty else { return nil }
        let start = numbers.first
        let end = numbers.count > 1 ? numbers[1] : nil
        return (path, start, end)
    }

    static func unquoted(_ text: String) -> String {
        for pair in [("\"", "\""), ("'", "'"), ("`", "`")] where text.count >= 2 && text.hasPrefix(pair.0) && text.hasSuffix(pair.1) {
            return String(text.dropFirst().dropLast())
        }
        return text
    }
}

extension ActionParser {
    /// The native tools that mirror the query blocks. Kept apart from `toolDefinitions`, so
    /// a caller offers them only where it can answer them.
    public static let queryToolDefinitions: [ToolDefinition] = [
        ToolDefinition(
            name: "read_file",
            description: "Show lines of a file, to see code the prompt does not show in full.",
            parametersSchema: """
                {"type":"object","properties":{\
                "path":{"type":"string","description":"Path relative to the workspace, like src/app.py"},\
                "start_line":{"type":"integer","description":"First line to show (1-based)"},\
                "end_line":{"type":"integer","description":"Last line to show"}},\
                "required":["path"],"additionalProperties":false}
                """
        ),
        ToolDefinition(
            name: "search_workspace",
            description: "Find the lines of the workspace's files that contain a text (exact, case-sensitive).",
            parametersSchema: """
                {"type":"object","properties":{\
                "text":{"type":"string","description":"The text to find, like def parse_header"},\
                "path":{"type":"string","description":"Only in this file or folder"}},\
                "required":["text"],"additionalProperties":false}
                """
        ),
        ToolDefinition(
            name: "list_definitions",
            description: "List the functions, classes and methods of a file or folder, with their line ranges.",
            parametersSchema: """
                {"type":"object","properties":{\
                "path":{"type":"string","description":"A file or folder; the whole workspace when left out"}},\
                "additionalProperties":false}
                """
        ),
    ]

    /// Maps a native query tool call to its query; nil when `name` is not a query tool.
    public func query(fromToolCall name: String, arguments: String) throws -> WorkspaceQuery? {
        let tool = name.lowercased().replacingOccurrences(of: "-", with: "_")
        guard ["read_file", "search_workspace", "list_definitions"].contains(tool) else { return nil }
        let object = try Self.argumentObject(arguments.isEmpty ? "{}" : arguments, tool: tool)
        func path(required: Bool) throws -> String? {
            guard let value = object["path"] ?? object["file"], !(value is NSNull) else {
                if required { throw ActionToolCallError.missingArgument(tool: tool, argument: "path") }
                return nil
            }
            guard let text = value as? String else { throw ActionToolCallError.wrongArgumentType(tool: tool, argument: "path") }
            if !required && (Self.trimmed(text).isEmpty || text == ".") { return nil }
            switch ActionPath.normalize(text) {
            case .success(let path): return path
            case .failure(let refusal): throw ActionToolCallError.refusedPath(tool: tool, refusal)
            }
        }
        func line(_ key: String) -> Int? {
            if let number = object[key] as? NSNumber { return number.intValue }
            if let text = object[key] as? String { return Int(text) }
            return nil
        }
        switch tool {
        case "read_file":
            return .readRange(path: try path(required: true)!, startLine: line("start_line"), endLine: line("end_line"))
        case "search_workspace":
            guard let text = (object["text"] ?? object["query"] ?? object["pattern"]) as? String, !text.isEmpty else {
                throw ActionToolCallError.missingArgument(tool: tool, argument: "text")
            }
            return .search(text: text, path: try path(required: false))
        default:
            return .listDefinitions(path: try path(required: false))
        }
    }
}
