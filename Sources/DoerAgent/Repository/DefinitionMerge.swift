import Foundation

/// A model that rewrites a whole Python file to change part of it tends to write back only
/// what it meant to change, while the code it wrote still calls what it left out: a table,
/// an exception class, a helper (seen: `toRoman` rewritten without `romanNumeralMap`, every
/// test then a NameError). When a rewrite no longer defines top-level names it still uses,
/// it is read as a set of changes to the file as it was: each definition replaces its
/// namesake, new ones go before the `__main__` block or at the end, missing imports go
/// after the last import, and everything the rewrite left out stays.
enum DefinitionMerge {
    struct Result: Equatable {
        var text: String
        /// The names the rewrite dropped yet still used, kept from the old file.
        var kept: [String]
        /// Functions and classes the rewrite held without the model having seen them, kept as they were.
        var unseen: [String] = []
    }

    /// `old` with `new`'s statements merged in, or nil when there is nothing to merge (the
    /// rewrite defines every name it uses, and the model saw the whole file), or the rewrite
    /// holds a statement that cannot be placed (module code the old file lacks).
    /// - Parameter shown: the top-level names of `old` the model was shown, when it saw only
    ///   part of the file: its versions of the others are guesses, and the old ones stay.
    static func merged(old: String, new: String, package: String? = nil, shown: Set<String>? = nil) -> Result? {
        let oldLines = old.components(separatedBy: "\n")
        let newLines = new.components(separatedBy: "\n")
        guard let oldBlocks = DefinitionSplice.blocks(oldLines), let newBlocks = DefinitionSplice.blocks(newLines) else { return nil }
        let oldNames = defined(by: oldBlocks, in: oldLines)
        let newNames = defined(by: newBlocks, in: newLines)
        let used = identifiers(in: newLines)
        let kept = oldNames.subtracting(newNames).filter { used.contains($0) }.sorted()
        var unseen: [String] = []
        guard !kept.isEmpty || shown != nil else { return nil }

        var edits: [(range: Range<Int>, lines: [String])] = []
        var replaced = Set<Int>()
        var appended: [String] = []
        var imports: [String] = []
        func replace(_ target: Int, with lines: ArraySlice<String>) -> Bool {
            guard replaced.insert(target).inserted else { return false }
            edits.append((oldBlocks[target].range, Array(lines)))
            return true
        }
        for block in newBlocks {
            let lines = newLines[block.range]
            switch block.kind {
            case .importLine:
                imports.append(contentsOf: lines)
            case .function(let name), .klass(let name):
                let namesakes = oldBlocks.indices.filter { definedName(of: oldBlocks[$0].kind) == name }
                if let shown, !namesakes.isEmpty, !shown.contains(name) {
                    if normalized(lines) != normalized(oldLines[oldBlocks[namesakes[0]].range]) { unseen.append(name) }
                } else if namesakes.isEmpty {
                    appended += [""] + lines
                } else if namesakes.count > 1 || !replace(namesakes[0], with: lines) {
                    return nil
                }
            case .other:
                let text = normalized(lines)
                if oldBlocks.contains(where: { normalized(oldLines[$0.range]) == text }) { continue }
                let target = assignedName(lines.first ?? "") ?? (isMainGuard(lines.first ?? "") ? "__main__" : nil)
                guard let target else { return nil }
                let namesakes = oldBlocks.indices.filter { index in
                    let first = oldLines[oldBlocks[index].range.lowerBound]
                    return oldBlocks[index].kind == .other && (assignedName(first) ?? (isMainGuard(first) ? "__main__" : nil)) == target
                }
                if namesakes.isEmpty, target == "__main__" {
                    appended += [""] + lines
                } else if namesakes.count != 1 || !replace(namesakes[0], with: lines) {
                    return nil
                }
            }
        }
        // New definitions go before the `__main__` block, else after the last statement.
        if !appended.isEmpty {
            let main = oldBlocks.first { isMainGuard(oldLines[$0.range.lowerBound]) }
            let at = main?.range.lowerBound ?? (oldBlocks.last?.range.upperBound ?? 0)
            edits.append((at..<at, main == nil ? [""] + appended : Array(appended.dropFirst()) + ["", ""]))
        }
        let missing = DefinitionSplice.missingImports(imports, in: oldLines, package: package,
                                                      functions: Set(newBlocks.compactMap { definedName(of: $0.kind) }))
        if !missing.isEmpty {
            let at = oldBlocks.last { $0.kind == .importLine }?.range.upperBound ?? 0
            edits.append((at..<at, missing))
        }
        // Nothing of the model's was set aside and nothing it dropped was kept: a plain write.
        if kept.isEmpty && unseen.isEmpty { return nil }
        var result = oldLines
        // From the bottom up, so earlier ranges stay where they were; at one line, the
        // replacement before an insertion, which then lands above it.
        for edit in edits.sorted(by: { ($0.range.lowerBound, $0.range.count) > ($1.range.lowerBound, $1.range.count) }) {
            result.replaceSubrange(edit.range, with: edit.lines)
        }
        return Result(text: result.joined(separator: "\n"), kept: kept, unseen: unseen)
    }

    private static func definedName(of kind: DefinitionSplice.Kind) -> String? {
        switch kind {
        case .function(let name), .klass(let name): name
        case .importLine, .other: nil
        }
    }

    /// Top-level names: functions, classes and plain assignments (`NAME = …`, `NAME: T = …`).
    private static func defined(by blocks: [DefinitionSplice.Block], in lines: [String]) -> Set<String> {
        Set(blocks.compactMap { block in definedName(of: block.kind) ?? (block.kind == .other ? assignedName(lines[block.range.lowerBound]) : nil) })
    }

    /// `NAME` of a line `NAME = …` or `NAME: T = …` (not `==`, not an augmented assignment).
    static func assignedName(_ line: String) -> String? {
        let name = line.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        guard !name.isEmpty, !name.first!.isNumber else { return nil }
        let rest = line.dropFirst(name.count).drop { $0 == " " }
        if rest.hasPrefix("=") && !rest.hasPrefix("==") { return String(name) }
        if rest.hasPrefix(":"), let equals = rest.firstIndex(of: "="), rest[rest.index(after: equals)...].first != "=" { return String(name) }
        return nil
    }

    private static func isMainGuard(_ line: String) -> Bool {
        let compact = line.replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "'", with: "\"")
        return compact.hasPrefix("if__name__==\"__main__\"")
    }

    /// Names the code uses, outside comments; an attribute (`.name`) is not a use of a module name.
    private static func identifiers(in lines: [String]) -> Set<String> {
        var names = Set<String>()
        for line in lines {
            let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            var current = ""
            var afterDot = false
            for character in code + " " {
                if character.isLetter || character.isNumber || character == "_" {
                    current.append(character)
                    continue
                }
                if !current.isEmpty, !current.first!.isNumber, !afterDot { names.insert(current) }
                afterDot = character == "."
                current = ""
            }
        }
        return names
    }

    private static func normalized(_ lines: ArraySlice<String>) -> String {
        lines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "\n")
    }
}
