/// What a candidate's model has been shown of each file: whole, or which definitions. A
/// model that rewrites a file it saw only in part types the rest from memory — a guess at
/// `fromRoman` while fixing `toRoman` — so only what it saw is taken from such a rewrite.
struct SeenCode: Sendable {
    private var whole: Set<String> = []
    /// Top-level names (a method counts for its class) of what was shown, per file shown in part.
    private var parts: [String: Set<String>] = [:]

    mutating func note(_ rendered: PromptFiles.Rendered) {
        whole.formUnion(rendered.shownWhole)
        for (path, names) in rendered.shownInPart {
            parts[path, default: []].formUnion(names.map { String($0.split(separator: ".").first ?? Substring($0)) })
        }
    }

    /// The model wrote this content itself: it has it all.
    mutating func wrote(_ path: String) { whole.insert(path) }

    /// The top-level names of `path` the model was shown, or nil when it saw all of it.
    func shownNames(of path: String) -> Set<String>? {
        whole.contains(path) ? nil : parts[path] ?? []
    }
}
