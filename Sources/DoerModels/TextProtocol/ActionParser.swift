public import DoerCore
import Foundation

/// Reads a model's reply written in the text action protocol (see `ActionProtocol`) into
/// actions, the prose around them, and the problems worth telling the model about.
///
/// ```swift
/// let result = ActionParser().parse(reply)
/// for action in result.actions { try await apply(action) }
/// if !result.problems.isEmpty {
///     feedback += result.problems.map(\.description).joined(separator: "\n")
/// }
/// ```
///
/// Parsing is total: any text gives a result, in time linear in its length (give or take
/// the look-back of two prose lines), and never a path that leaves the workspace.
public struct ActionParser: Sendable {
    /// The one file the request asks for, if it names exactly one: a reply whose only code
    /// is a single unnamed block of that file's language writes it there. Small models often
    /// answer "write solution.py" with a bare ```python block.
    public var targetFile: String?

    public init(targetFile: String? = nil) {
        self.targetFile = targetFile
    }

    public func parse(_ text: String) -> ActionParseResult {
        let lines = Self.lines(of: text)
        var state = ParseState()
        parseBlocks(lines, from: 0, to: lines.count, lineOffset: 0, nesting: 0, into: &state)
        resolveUnnamedBlocks(into: &state)
        let prose = Self.trimBlankLines(state.prose).joined(separator: "\n")
        if state.actions.isEmpty && state.problems.isEmpty && state.queries.isEmpty
            && text.unicodeScalars.contains(where: { !Self.isBlankScalar($0) })
        {
            state.problems.append(
                ActionParseProblem(
                    line: 1,
                    message: "no file, edit or run block found; write a whole file as ```file \(targetFile ?? "app.py"), "
                        + "change one as ```edit \(targetFile ?? "app.py") with <<<<<<< SEARCH / ======= / >>>>>>> REPLACE, "
                        + "or run a command as ```run"
                )
            )
        }
        return ActionParseResult(actions: state.actions, prose: prose, problems: state.problems, queries: state.queries)
    }

    // MARK: - Blocks

    struct ParseState {
        var actions: [Action] = []
        var problems: [ActionParseProblem] = []
        var queries: [WorkspaceQuery] = []
        var prose: [String] = []
        /// Code blocks with no file name, kept until the whole reply is read.
        var unnamed: [(line: Int, language: String?, body: [String])] = []

        mutating func problem(_ line: Int, _ message: String) {
            problems.append(ActionParseProblem(line: line, message: message))
        }
    }

    /// Recursion only happens for a Markdown block wrapped around the whole reply, whose body
    /// is strictly shorter than the text holding it; the cap is a second guarantee.
    static let maximumNesting = 3

    /// Walks `lines[start..<end]`, sending prose lines to `state.prose` and each fenced block
    /// to `handleBlock`. `lineOffset` turns indices into the 1-based line numbers of the reply.
    func parseBlocks(
        _ lines: [String], from start: Int, to end: Int, lineOffset: Int, nesting: Int,
        into state: inout ParseState
    ) {
        var index = start
        // Non-empty prose lines since the last block, newest last, for names like `**app.py**`.
        var recentProse: [String] = []
        while index < end {
            let line = lines[index]
            guard let fence = Fence(opening: line) else {
                state.prose.append(line)
                if !Self.isBlank(line) {
                    recentProse.append(line)
                    if recentProse.count > 2 { recentProse.removeFirst() }
                }
                index += 1
                continue
            }
            let header = BlockHeader(info: fence.info)
            // In Markdown content fences nest; the file may be named by the prose above.
            let nests = header.holdsMarkdown
                || (header.path == nil && header.keyword == nil
                    && recentProse.contains(where: { Self.fileName(namedBy: $0).map(Self.isMarkdownPath) ?? false }))
            var depth = 0
            var bodyEnd = index + 1
            var closed = false
            while bodyEnd < end {
                let candidate = lines[bodyEnd]
                if fence.isClosed(by: candidate) {
                    if depth == 0 {
                        closed = true
                        break
                    }
                    depth -= 1
                } else if let inner = Fence(opening: candidate), inner.character == fence.character,
                    inner.length >= fence.length, !inner.info.isEmpty
                {
                    // Only a fence that could close this one needs counting or ends it.
                    if nests {
                        depth += 1
                    } else if inner.length == fence.length && BlockHeader(info: inner.info).isExplicitAction {
                        // The model forgot to close this block and began the next one.
                        break
                    }
                }
                bodyEnd += 1
            }
            let body = lines[(index + 1)..<bodyEnd].map { fence.removingIndentation(from: $0) }
            let block = FencedBlock(
                info: fence.info, header: header, body: body, firstBodyLine: lineOffset + index + 2,
                openingLine: lineOffset + index + 1, closed: closed, precedingProse: recentProse
            )
            let wrapsActions = header.wrapsReply && nesting < Self.maximumNesting
                && body.contains(where: { Fence(opening: $0).map { BlockHeader(info: $0.info).isExplicitAction } ?? false })
            if wrapsActions {
                parseBlocks(
                    body, from: 0, to: body.count, lineOffset: lineOffset + index + 1,
                    nesting: nesting + 1, into: &state
                )
            } else {
                handleBlock(block, into: &state)
            }
            recentProse = []
            index = closed ? bodyEnd + 1 : bodyEnd
        }
    }

    /// A fenced block, with the line numbers needed for problems.
    struct FencedBlock {
        var info: String
        var header: BlockHeader
        var body: [String]
        var firstBodyLine: Int
        var openingLine: Int
        var closed: Bool
        var precedingProse: [String]
    }

    func handleBlock(_ block: FencedBlock, into state: inout ParseState) {
        let header = block.header
        var body = block.body
        var firstBodyLine = block.firstBodyLine
        let line = block.openingLine
        if parseQuery(info: block.info, body: body, line: line, into: &state) { return }
        let isShell = header.language.map(Self.shellLanguages.contains) ?? false
        let isQuiet = header.language.map(Self.quietLanguages.contains) ?? false

        // Where the file name comes from, strongest first.
        var rawPath = header.path
        var pathFromProse = false
        if rawPath == nil, header.keyword != .run, let named = Self.fileNameComment(in: body) {
            if !isShell || Self.hasShellExtension(named.path) {
                rawPath = named.path
                // The blank line a model leaves under the name belongs to the name, not the file.
                var end = named.index + 1
                while end < body.count, Self.isBlank(body[end]) { end += 1 }
                body.removeSubrange(0..<end)
                firstBodyLine += end
            }
        }
        if rawPath == nil, header.keyword != .run {
            for prose in block.precedingProse.reversed() {
                if let named = Self.fileName(namedBy: prose, strictly: isQuiet) {
                    if !isShell || Self.hasShellExtension(named) { rawPath = named }
                    pathFromProse = true
                    break
                }
            }
            if rawPath == nil { pathFromProse = false }
        }

        // ```go / file main.go / ```go: the model opened the block twice.
        if let first = body.firstIndex(where: { !Self.isBlank($0) }), first < 2, let inner = Fence(opening: body[first]),
            !inner.info.isEmpty, !header.holdsMarkdown
        {
            let innerHeader = BlockHeader(info: inner.info)
            if rawPath == nil, let innerPath = innerHeader.path { rawPath = innerPath }
            body.removeSubrange(0...first)
            firstBodyLine += first + 1
        }

        let hasSearchMarker = body.contains(where: { EditMarker($0) == .search })
        if header.keyword == .edit || (hasSearchMarker && header.keyword != .run) {
            guard let rawPath else {
                state.problem(line, "edit block without a file name; name the file in the fence, like ```edit app.py")
                return
            }
            guard let path = resolvePath(rawPath, line: line, into: &state) else { return }
            parseEdit(
                path: path, body: body, firstBodyLine: firstBodyLine, openingLine: line,
                closed: block.closed, into: &state
            )
            return
        }

        let isScript = Self.startsWithShebang(body)
        if header.keyword == .run
            || (rawPath == nil && isShell && !isScript && Self.looksLikeShell(body))
            || ((rawPath == nil || (pathFromProse && !Self.hasShellExtension(rawPath ?? ""))) && !isScript
                && Self.isOnlyKnownCommands(body))
        {
            let script = Self.commandScript(from: body)
            if !script.isEmpty {
                state.actions.append(.runCommand(script))
            } else if header.keyword == .run, let inline = header.inlineCommand {
                state.actions.append(.runCommand(inline))
            } else if header.keyword == .run {
                state.problem(line, "run block is empty; put the command on the line after ```run")
            }
            return
        }

        if let language = header.language, Self.diffLanguages.contains(language) {
            state.problem(
                line,
                "diff blocks are not applied; change a file with ```edit \(rawPath.map(Self.unwrapped) ?? "app.py") "
                    + "and <<<<<<< SEARCH / ======= / >>>>>>> REPLACE sections, or write it whole with ```file"
            )
            return
        }

        if let rawPath {
            guard let path = resolvePath(rawPath, line: line, into: &state) else { return }
            state.actions.append(.writeFile(path: path, content: Self.fileContent(body)))
            return
        }

        if header.keyword == .file {
            state.problem(line, "file block without a file name; put the path after the word file, like ```file app.py")
            return
        }
        if isScript {
            state.problem(
                line,
                "script without a file name; name it in the fence, like ```file run.sh, "
                    + "or put commands to run now in a ```run block"
            )
            return
        }
        if isQuiet || isShell || body.allSatisfy(Self.isBlank) { return }
        state.unnamed.append((line, header.language, body))
    }

    /// An unnamed block goes to `targetFile` when it is the reply's only code, the reply
    /// writes that file nowhere else, and its language (if given) fits the file; otherwise
    /// each unnamed block is a problem to tell the model about.
    func resolveUnnamedBlocks(into state: inout ParseState) {
        let blocks = state.unnamed
        state.unnamed = []
        if let targetFile, blocks.count == 1, let block = blocks.first,
           !state.actions.contains(where: { if case .writeFile(let path, _) = $0 { path == targetFile } else { false } }),
           block.language.map({ Self.language($0, fits: targetFile) }) ?? true
        {
            state.actions.append(.writeFile(path: targetFile, content: Self.fileContent(block.body)))
            return
        }
        for block in blocks {
            state.problem(block.line, "code block without a file name; name the file in the fence, like ```file \(targetFile ?? "app.py")")
        }
    }

    static func language(_ language: String, fits file: String) -> Bool {
        let ext = (file as NSString).pathExtension.lowercased()
        let names: [String: Set<String>] = [
            "py": ["python", "py", "python3"], "js": ["javascript", "js", "node"], "mjs": ["javascript", "js"],
            "ts": ["typescript", "ts"], "go": ["go", "golang"], "rs": ["rust", "rs"], "rb": ["ruby", "rb"],
            "c": ["c"], "cpp": ["cpp", "c++"], "java": ["java"], "swift": ["swift"], "sh": ["sh", "bash", "shell"],
        ]
        return names[ext]?.contains(language.lowercased()) ?? (language.lowercased() == ext)
    }

    func resolvePath(_ raw: String, line: Int, into state: inout ParseState) -> String? {
        switch ActionPath.normalize(raw) {
        case .success(let path):
            return path
        case .failure(let refusal):
            state.problem(line, refusal.description)
            return nil
        }
    }

    // MARK: - Text helpers

    /// Splits on LF, CRLF and lone CR alike. Works on scalars because Swift treats CRLF as
    /// one `Character`.
    static func lines(of text: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" {
                if !previousWasCR { lines.append(String(current)) }
                current = String.UnicodeScalarView()
                previousWasCR = false
            } else if scalar == "\r" {
                lines.append(String(current))
                current = String.UnicodeScalarView()
                previousWasCR = true
            } else {
                current.append(scalar)
                previousWasCR = false
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }

    static func isBlankScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar == "\u{0B}"
            || scalar == "\u{0C}" || scalar == "\u{A0}" || scalar == "\u{FEFF}"
    }

    static func isBlank(_ line: String) -> Bool {
        line.unicodeScalars.allSatisfy(isBlankScalar)
    }

    static func trimmed(_ text: some StringProtocol) -> String {
        let scalars = String(text).unicodeScalars
        guard let first = scalars.firstIndex(where: { !isBlankScalar($0) }),
            let last = scalars.lastIndex(where: { !isBlankScalar($0) })
        else { return "" }
        return String(Substring(scalars[first...last]))
    }

    static func trimBlankLines(_ lines: [String]) -> ArraySlice<String> {
        guard let first = lines.firstIndex(where: { !isBlank($0) }),
            let last = lines.lastIndex(where: { !isBlank($0) })
        else { return [] }
        return lines[first...last]
    }

    /// File content ends with exactly one newline when it has any text; leading lines stay.
    static func fileContent(_ body: [String]) -> String {
        var lines = body[...]
        while let last = lines.last, isBlank(last) { lines.removeLast() }
        if lines.isEmpty { return "" }
        return lines.joined(separator: "\n") + "\n"
    }
}
