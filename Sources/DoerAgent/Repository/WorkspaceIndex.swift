/// The files of a workspace, what each defines and where names are used: what the prompt
/// draws on to show the model the code a request is about rather than the smallest files.
struct WorkspaceIndex: Sendable, Hashable, Codable {
    /// Bumped whenever what the index holds or how it is read changes; a cache of another
    /// version is ignored.
    static let version = 2

    var files: [String: IndexedFile] = [:]

    var paths: [String] { files.keys.sorted() }

    /// Definitions whose bare or qualified name is `name`.
    func definitions(named name: String) -> [(path: String, definition: CodeDefinition)] {
        paths.flatMap { path in
            files[path]!.definitions.filter { $0.name == name || $0.qualifiedName == name }.map { (path, $0) }
        }
    }

    /// The file a path from a traceback or a request means: the same path, or the one path
    /// of the index it ends with (`/workspace/src/pkg/a.py` → `src/pkg/a.py`).
    func resolve(_ path: String) -> String? {
        var trimmed = path
        while trimmed.hasPrefix("./") { trimmed.removeFirst(2) }
        if files[trimmed] != nil { return trimmed }
        let matches = files.keys.filter { trimmed.hasSuffix("/" + $0) || $0.hasSuffix("/" + trimmed) }
        if matches.count == 1 { return matches[0] }
        // The longest match is the most specific; ties say nothing.
        let sorted = matches.sorted { $0.count > $1.count }
        if sorted.count > 1, sorted[0].count > sorted[1].count, trimmed.hasSuffix(sorted[0]) { return sorted[0] }
        return nil
    }

    /// Where `name` is used, as (path, line), capped.
    func uses(of name: String, limit: Int = 40) -> [(path: String, line: Int)] {
        var found: [(String, Int)] = []
        for path in paths {
            for line in files[path]!.uses[name] ?? [] {
                found.append((path, line))
                if found.count >= limit { return found }
            }
        }
        return found
    }
}
