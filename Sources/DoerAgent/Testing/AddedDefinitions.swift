import Foundation

/// Functions and classes a change adds to a Python file that was already there, carried into
/// the file as it was before the red → green check.
///
/// A test of a name the change invented fails on the old code with an ImportError or a
/// NameError whatever the change does: asked to fix `spread`, a model that adds
/// `spread_fixed` and a test of it shows only that `spread_fixed` now exists, and `spread`
/// may still be wrong. With the new definitions in the old file too, that test passes before
/// the change, and only a test of the behaviour the request is about stays red. New
/// top-level code a request asks for (it says "add", "implement", … or names it) is the
/// point of the change and is not carried.
enum AddedDefinitions {
    struct Carried: Equatable {
        /// The old file with the new definitions (and the imports and names they need) appended.
        var text: String
        /// The functions and classes carried, in the order the new file has them.
        var names: [String]
    }

    /// `old` with what `new` adds at top level appended — functions and classes `old` does
    /// not define and `task` does not name, with the import lines and top-level assignments
    /// `new` adds — or nil when nothing is carried (or either file cannot be read line by line).
    static func carried(old: String, new: String, task: String) -> Carried? {
        guard !asksForNewCode(task) else { return nil }
        let oldLines = old.components(separatedBy: "\n")
        let newLines = new.components(separatedBy: "\n")
        guard let oldBlocks = DefinitionSplice.blocks(oldLines), let newBlocks = DefinitionSplice.blocks(newLines) else { return nil }
        let defined = Set(oldBlocks.compactMap { name(of: $0.kind) })
        let present = Set(oldLines.map { $0.trimmingCharacters(in: .whitespaces) })
        var names: [String] = []
        var carried: [String] = []
        var support: [String] = []
        for block in newBlocks {
            let lines = newLines[block.range]
            switch block.kind {
            case .function(let name), .klass(let name):
                guard !defined.contains(name), !named(name, in: task) else { continue }
                names.append(name)
                carried.append(contentsOf: lines)
                carried.append("")
            case .importLine:
                support.append(contentsOf: lines.filter { !present.contains($0.trimmingCharacters(in: .whitespaces)) })
            case .other:
                // A new module-level constant the new functions may read (`_PATTERN = re.compile(…)`).
                guard let first = lines.first, let target = assignedName(first), !oldAssigns(target, oldLines) else { continue }
                support.append(contentsOf: lines)
            }
        }
        guard !names.isEmpty else { return nil }
        let text = old + (old.hasSuffix("\n") ? "" : "\n") + "\n\n" + (support + [""] + carried).joined(separator: "\n")
        return Carried(text: text, names: names)
    }

    /// Whether the request asks for new code, so a new function may be just what it wants.
    static func asksForNewCode(_ task: String) -> Bool {
        task.lowercased().range(of: #"\b(add|adds|adding|create|implement|introduce|write|provide|expose|new|support)\b"#,
                                options: .regularExpression) != nil
    }

    /// Whether the request names `identifier`, as it is or in words (`to_celsius`, "to celsius").
    static func named(_ identifier: String, in task: String) -> Bool {
        let text = task.lowercased()
        let name = identifier.lowercased()
        let words = name.split(separator: "_").joined(separator: " ")
        return [name, words].contains { text.range(of: "\\b" + NSRegularExpression.escapedPattern(for: $0) + "\\b", options: .regularExpression) != nil }
    }

    private static func name(of kind: DefinitionSplice.Kind) -> String? {
        switch kind {
        case .function(let name), .klass(let name): name
        case .importLine, .other: nil
        }
    }

    /// `NAME = …` or `NAME: type = …` at the margin.
    private static func assignedName(_ line: String) -> String? {
        guard let match = line.range(of: #"^[A-Za-z_][A-Za-z0-9_]*\s*(:[^=]*)?=(?!=)"#, options: .regularExpression) else { return nil }
        return String(line[match].prefix { $0.isLetter || $0.isNumber || $0 == "_" })
    }

    private static func oldAssigns(_ target: String, _ oldLines: [String]) -> Bool {
        oldLines.contains { assignedName($0) == target }
    }
}
