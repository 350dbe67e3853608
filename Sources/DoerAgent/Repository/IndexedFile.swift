/// What the index knows of one file, and the stamp that says whether it is still true.
struct IndexedFile: Sendable, Hashable, Codable {
    var path: String
    /// Size and modification time when it was read: a file whose stamp is unchanged is not
    /// read again (copies of the workspace keep the stamps).
    var size: Int
    var modified: Double
    var lineCount: Int
    /// Python, or the name of the pattern set that scanned it.
    var language: String
    /// True when the language's own parser read it; false for the pattern scanner, whose
    /// line ranges are approximate.
    var parsed: Bool
    var definitions: [CodeDefinition]
    /// Line ranges of the top-level imports (1-based, inclusive).
    var imports: [ClosedRange<Int>]
    /// Names the file uses, with some of the lines where it uses them.
    var uses: [String: [Int]]
    /// Top-level assignments (Python): a table or constant a function reads is part of
    /// what the function does (`romanNumeralMap` for `toRoman`).
    var globals: [String: ClosedRange<Int>] = [:]

    /// The assignments at the top of the file that lines `range` use.
    func globals(usedIn range: ClosedRange<Int>) -> [ClosedRange<Int>] {
        globals.filter { name, _ in (uses[name] ?? []).contains { range.contains($0) } }.map(\.value).sorted { $0.lowerBound < $1.lowerBound }
    }

    /// The file's top-level functions that `definition` uses by name (calls them, or passes
    /// them on), in the order they are defined; small ones only.
    func functionsCalled(in definition: CodeDefinition, maxLines: Int = 80) -> [CodeDefinition] {
        let body = definition.startLine...definition.endLine
        return definitions.filter { callee in
            callee.kind == .function && callee.parentName == nil && callee.name != definition.name && callee.lineCount <= maxLines
                && !body.contains(callee.startLine) && (uses[callee.name] ?? []).contains { body.contains($0) }
        }
    }

    /// The innermost definition holding `line`.
    func enclosing(line: Int) -> CodeDefinition? {
        definitions.filter { $0.contains(line: line) }.min { $0.lineCount < $1.lineCount }
    }
}
