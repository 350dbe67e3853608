import DoerCore
import DoerSandbox
import Foundation

/// Answers what the model asked to see, from the candidate's copy, each answer within a
/// budget of tokens (a search or a read that would say more says how much was left out).
struct QueryAnswers {
    let index: WorkspaceIndex
    /// Lines of one read, at most.
    static let maximumReadLines = 400
    /// Matching lines of one search, at most.
    static let maximumMatches = 40

    func answer(_ query: WorkspaceQuery, in copy: WorkspaceCopy, tokens budget: Int) -> String {
        let text: String
        switch query {
        case .readRange(let path, let start, let end):
            text = read(path, start: start, end: end, in: copy, budget: budget)
        case .search(let needle, let scope):
            text = search(needle, in: scope, copy: copy)
        case .listDefinitions(let scope):
            text = definitions(in: scope, copy: copy)
        }
        guard TokenEstimate.tokens(text) > budget else { return text }
        return TokenEstimate.prefix(text, fitting: max(0, budget - 20)) + "... (cut to fit; ask for less)\n"
    }

    func read(_ path: String, start: Int?, end: Int?, in copy: WorkspaceCopy, budget: Int) -> String {
        guard let content = copy.read(path) else { return "read \(path): no such text file in the workspace.\n" }
        var lines = content.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        guard !lines.isEmpty else { return "read \(path): the file is empty.\n" }
        let first = min(max(1, start ?? 1), lines.count)
        var last = min(max(first, end ?? lines.count), lines.count, first + Self.maximumReadLines - 1)
        // Whole lines that fit, and saying where it stopped.
        var body = ""
        var used = 40
        for number in first...last {
            let cost = TokenEstimate.tokens(lines[number - 1]) + 1
            if used + cost > budget && number > first {
                last = number - 1
                break
            }
            body += lines[number - 1] + "\n"
            used += cost
        }
        let more = last < lines.count ? " (the file goes on to line \(lines.count))" : ""
        return "\(path) lines \(first)-\(last) of \(lines.count)\(more):\n```text\n\(body)```\n"
    }

    func search(_ needle: String, in scope: String?, copy: WorkspaceCopy) -> String {
        var matches: [String] = []
        var total = 0
        for path in copy.files() where Self.within(path, scope) && !path.hasPrefix(".") && !path.contains("/.") {
            guard let content = copy.read(path), content.contains(needle) else { continue }
            for (number, line) in content.components(separatedBy: "\n").enumerated() where line.contains(needle) {
                total += 1
                if matches.count < Self.maximumMatches {
                    let shown = line.count > 200 ? String(line.prefix(200)) + "…" : line
                    let inside = index.files[path]?.enclosing(line: number + 1).map { " [in \($0.qualifiedName)]" } ?? ""
                    matches.append("\(path):\(number + 1):\(inside) \(shown.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        guard total > 0 else { return "search \(needle.debugDescription)\(scope.map { " in \($0)" } ?? ""): not found.\n" }
        return "search \(needle.debugDescription)\(scope.map { " in \($0)" } ?? ""): \(total) line(s)"
            + (total > matches.count ? ", the first \(matches.count) shown" : "") + ":\n" + matches.joined(separator: "\n") + "\n"
    }

    func definitions(in scope: String?, copy: WorkspaceCopy) -> String {
        let paths = index.paths.filter { Self.within($0, scope) }
        guard !paths.isEmpty else {
            return "definitions\(scope.map { " in \($0)" } ?? ""): no source file Doer can read there.\n"
        }
        var lines: [String] = []
        for path in paths {
            guard let file = index.files[path] else { continue }
            lines.append("\(path) (\(file.lineCount) lines)" + (file.parsed ? "" : ", lines approximate") + ":")
            for definition in file.definitions {
                let depth = definition.qualifiedName.split(separator: ".").count - 1
                lines.append(String(repeating: "  ", count: depth + 1) + "\(definition.startLine)-\(definition.endLine) "
                             + definition.signature + (definition.doc.map { "  # " + $0 } ?? ""))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func within(_ path: String, _ scope: String?) -> Bool {
        guard let scope, !scope.isEmpty else { return true }
        let folder = scope.hasSuffix("/") ? scope : scope + "/"
        return path == scope || path.hasPrefix(folder)
    }
}
