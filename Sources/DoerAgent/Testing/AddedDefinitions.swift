import Foundation

/// Functions and classes a change adds to a Python file that was already there, carried into
/// the file as it was before the red → green check.
///
/// A test of a name the change invented fails on the old code with an ImportError or a
/// NameError whatever the change does: asked to fix `spread`, a model that adds
/// `spread_fixed` and a test of it shows only that `spread_fixed` now exists, and `spread`
/// may still be wrong. With the new definitions in the old file too, that test passes before
/// the change, and only a test of the behaviour the request is about stays red. The same
/// holds for a method added to a class the file already had (`Stats.spread_fixed`): it goes
/// into the old class. New code a request asks for (it says "add", "implement", … or names
/// it) is the point of the change and is not carried.
enum AddedDefinitions {
    struct Carried: Equatable {
        /// The old file with the new definitions (and the imports and names they need) appended.
        var text: String
        /// The methods (`Class.method`), then the functions and classes carried, in the order
        /// the new file has them.
        var names: [String]
    }

    /// `old` with what `new` adds that `task` does not name: methods of classes `old` has,
    /// inserted at the end of each class, and top-level functions and classes `old` does not
    /// define, appended with the import lines and top-level assignments `new` adds — or nil
    /// when nothing is carried (or either file cannot be read line by line).
    static func carried(old: String, new: String, task: String) -> Carried? {
        guard !asksForNewCode(task) else { return nil }
        var oldLines = old.components(separatedBy: "\n")
        let newLines = new.components(separatedBy: "\n")
        guard let oldBlocks = DefinitionSplice.blocks(oldLines), let newBlocks = DefinitionSplice.blocks(newLines) else { return nil }
        let defined = Set(oldBlocks.compactMap { name(of: $0.kind) })
        let present = Set(oldLines.map { $0.trimmingCharacters(in: .whitespaces) })
        var names = carryMethods(into: &oldLines, oldBlocks: oldBlocks, from: newLines, newBlocks: newBlocks, task: task)
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
        let base = oldLines.joined(separator: "\n")
        guard !carried.isEmpty else { return Carried(text: base, names: names) }
        let text = base + (base.hasSuffix("\n") ? "" : "\n") + "\n\n" + (support + [""] + carried).joined(separator: "\n")
        return Carried(text: text, names: names)
    }

    /// Inserts into each class of `oldLines` the methods its namesake in `newLines` adds and
    /// `task` does not name, at the end of the old class and at its indentation; returns them
    /// as `Class.method`.
    private static func carryMethods(into oldLines: inout [String], oldBlocks: [DefinitionSplice.Block],
                                     from newLines: [String], newBlocks: [DefinitionSplice.Block], task: String) -> [String] {
        var insertions: [(at: Int, lines: [String], names: [String])] = []
        for block in newBlocks {
            guard case .klass(let className) = block.kind else { continue }
            let namesakes = oldBlocks.filter { $0.kind == block.kind }
            guard namesakes.count == 1, let oldClass = ClassBody(namesakes[0], in: oldLines),
                  let newClass = ClassBody(block, in: newLines) else { continue }
            let existing = Set(oldClass.members.compactMap { name(of: $0.kind) })
            var lines: [String] = []
            var added: [String] = []
            for member in newClass.members {
                guard case .function(let method) = member.kind, !existing.contains(method), !named(method, in: task) else { continue }
                added.append(className + "." + method)
                lines.append("")
                lines += newClass.lines(of: member, indentedAs: oldClass.indent)
            }
            if !added.isEmpty { insertions.append((namesakes[0].range.upperBound, lines, added)) }
        }
        for insertion in insertions.sorted(by: { $0.at > $1.at }) { oldLines.insert(contentsOf: insertion.lines, at: insertion.at) }
        return insertions.sorted { $0.at < $1.at }.flatMap(\.names)
    }

    /// The statements in a class's body, read as top-level ones once its indentation is taken off.
    private struct ClassBody {
        /// The body's indentation.
        var indent: String
        /// The body's lines with `indent` taken off where they have it (a line of a string
        /// may not), and which had it.
        var dedented: [String]
        var hadIndent: [Bool]
        var members: [DefinitionSplice.Block]

        /// Nil for a class on one line (`class Empty: pass`) or a body that cannot be read.
        init?(_ block: DefinitionSplice.Block, in lines: [String]) {
            // The header starts after the decorators and ends where its brackets close.
            guard var headerEnd = lines[block.range].firstIndex(where: { !$0.hasPrefix("@") }) else { return nil }
            var scanner = DefinitionSplice.Scanner()
            scanner.scan(lines[headerEnd])
            while scanner.isContinuing, headerEnd + 1 < block.range.upperBound { headerEnd += 1; scanner.scan(lines[headerEnd]) }
            let body = lines[(headerEnd + 1)..<block.range.upperBound]
            guard let first = body.first(where: { line in
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                return !trimmed.isEmpty && !trimmed.hasPrefix("#")
            }) else { return nil }
            indent = String(first.prefix { $0 == " " || $0 == "\t" })
            guard !indent.isEmpty else { return nil }
            let indent = indent
            hadIndent = body.map { $0.hasPrefix(indent) }
            dedented = body.map { $0.hasPrefix(indent) ? String($0.dropFirst(indent.count)) : $0 }
            guard let members = DefinitionSplice.blocks(dedented) else { return nil }
            self.members = members
        }

        /// A member's lines with this body's indentation replaced by `other`.
        func lines(of member: DefinitionSplice.Block, indentedAs other: String) -> [String] {
            member.range.map { hadIndent[$0] ? other + dedented[$0] : dedented[$0] }
        }
    }

    /// The top-level functions and classes `new` defines that `old` (nil for a new file)
    /// does not, in the order `new` has them; empty when `new` cannot be read line by line.
    static func newNames(old: String?, new: String) -> [String] {
        guard let newBlocks = DefinitionSplice.blocks(new.components(separatedBy: "\n")) else { return [] }
        let defined = old.flatMap { DefinitionSplice.blocks($0.components(separatedBy: "\n")) }
            .map { Set($0.compactMap { name(of: $0.kind) }) } ?? []
        var names: [String] = []
        for block in newBlocks {
            if let name = name(of: block.kind), !defined.contains(name), !names.contains(name) { names.append(name) }
        }
        return names
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
