/// One `key = value` line of git configuration, with the key split the way git splits it:
/// the section and the variable name are case-insensitive (git lowercases them), the
/// subsection between them is kept as written (`filter.My=Driver.clean`: section `filter`,
/// subsection `My=Driver`, variable `clean`).
struct GitConfigEntry: Sendable, Hashable {
    /// As git prints it: section and variable lowercased, subsection as written.
    var key: String
    /// Nil for a bare `key` line, which git reads as true.
    var value: String?
    /// Where the line was read: `system`, `global`, `command` (the host's own), `local`,
    /// `worktree`, or the path of a file the repository's configuration includes.
    var origin: String

    var section: String { String(key.prefix { $0 != "." }).lowercased() }

    var variable: String {
        guard let dot = key.lastIndex(of: ".") else { return "" }
        return String(key[key.index(after: dot)...]).lowercased()
    }

    /// Nil for a two-part key such as `core.pager`.
    var subsection: String? {
        guard let first = key.firstIndex(of: "."), let last = key.lastIndex(of: "."), first < last else { return nil }
        return String(key[key.index(after: first)..<last])
    }

    /// Parses `git config --list -z` output: records ended by NUL, the key ended by a
    /// newline (absent for a bare key); with `--show-scope`, each record starts with the
    /// scope and a NUL.
    static func parse(_ output: String, withScope: Bool, origin: String = "") -> [GitConfigEntry] {
        var fields = output.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
        if fields.last == "" { fields.removeLast() }
        var entries: [GitConfigEntry] = []
        var index = 0
        while index < fields.count {
            var scope = origin
            if withScope {
                scope = fields[index]
                index += 1
                guard index < fields.count else { break }
            }
            let record = fields[index]
            index += 1
            if let newline = record.firstIndex(of: "\n") {
                entries.append(GitConfigEntry(key: String(record[..<newline]),
                                              value: String(record[record.index(after: newline)...]), origin: scope))
            } else if !record.isEmpty {
                entries.append(GitConfigEntry(key: record, value: nil, origin: scope))
            }
        }
        return entries
    }
}
