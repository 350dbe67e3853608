import Foundation

/// A small model asked to change one function of a large Python file tends to write the
/// file back holding only that function. Such a write is refused whole (`LargeFileGuard`),
/// but its intent is plain: when every statement it holds is a top-level function the file
/// already defines once (or an import), each replaces its namesake and the rest of the file
/// stays as it was — the same result as the edit block the model was asked for.
enum DefinitionSplice {
    struct Result: Equatable {
        var text: String
        /// The functions put in place, in the order written.
        var functions: [String]
    }

    /// `old` with the functions of `new` in place of its own, or nil when `new` holds anything
    /// else (a class, module code, a function `old` does not define at top level once).
    /// `package`: the top package the file belongs to (`toolz` for `toolz/itertoolz.py`);
    /// an import from it, a relative one, or one of a spliced function itself is not added —
    /// a model's partial file tends to import the function from its own package, a cycle.
    static func spliced(old: String, new: String, package: String? = nil) -> Result? {
        let oldLines = old.components(separatedBy: "\n")
        let newLines = new.components(separatedBy: "\n")
        guard let oldBlocks = blocks(oldLines), let newBlocks = blocks(newLines) else { return nil }
        var functions: [(name: String, lines: ArraySlice<String>)] = []
        var imports: [String] = []
        for block in newBlocks {
            let lines = newLines[block.range]
            switch block.kind {
            case .function(let name): functions.append((name, lines))
            case .importLine: imports.append(contentsOf: lines)
            case .other, .klass: return nil
            }
        }
        guard !functions.isEmpty, Set(functions.map(\.name)).count == functions.count else { return nil }
        var replacements: [(range: Range<Int>, lines: ArraySlice<String>)] = []
        for function in functions {
            let namesakes = oldBlocks.filter { $0.kind == .function(function.name) }
            guard namesakes.count == 1, let target = namesakes.first else { return nil }
            replacements.append((target.range, function.lines))
        }
        var result = oldLines
        for replacement in replacements.sorted(by: { $0.range.lowerBound > $1.range.lowerBound }) {
            result.replaceSubrange(replacement.range, with: replacement.lines)
        }
        // Imports the functions need that the file lacks go after its last top-level import.
        let missing = missingImports(imports, in: oldLines, package: package, functions: Set(functions.map(\.name)))
        if !missing.isEmpty {
            let lastImport = oldBlocks.last { $0.kind == .importLine }
            let shift = replacements.filter { lastImport != nil && $0.range.lowerBound < lastImport!.range.upperBound }
                .reduce(0) { $0 + $1.lines.count - $1.range.count }
            result.insert(contentsOf: missing, at: lastImport.map { $0.range.upperBound + shift } ?? 0)
        }
        return Result(text: result.joined(separator: "\n"), functions: functions.map(\.name))
    }

    /// The lines of `imports` that `oldLines` lacks and that are ones to add (see `importsOwnCode`).
    static func missingImports(_ imports: [String], in oldLines: [String], package: String?, functions: Set<String>) -> [String] {
        let present = Set(oldLines.map { $0.trimmingCharacters(in: .whitespaces) })
        return imports.filter { line in
            let text = line.trimmingCharacters(in: .whitespaces)
            return !present.contains(text) && !importsOwnCode(text, package: package, functions: functions)
        }
    }

    /// Whether an import line is not one to add: it reaches into the file's own package
    /// (relative, or from `package`), binds one of the spliced functions' names, or is `__future__`'s.
    static func importsOwnCode(_ line: String, package: String?, functions: Set<String>) -> Bool {
        let words = line.replacingOccurrences(of: ",", with: " ").split(separator: " ").map(String.init)
        guard words.count >= 2 else { return false }
        let module = words[1]
        // A `__future__` import belongs at the top of a file and changes how all of it is
        // read: never one to add beside the others.
        if module.hasPrefix(".") || module == "__future__" { return true }
        if let package, module == package || module.hasPrefix(package + ".") { return true }
        // `from m import f`, `from m import g as f`, `import f`: the name bound.
        var bound: [String] = []
        if words[0] == "from", let at = words.firstIndex(of: "import") {
            var index = at + 1
            while index < words.count {
                if index + 2 < words.count, words[index + 1] == "as" { bound.append(words[index + 2]); index += 3 } else { bound.append(words[index]); index += 1 }
            }
        } else {
            bound = words.dropFirst().filter { $0 != "as" }.map { String($0.split(separator: ".").first ?? "") }
        }
        return bound.contains { functions.contains($0) }
    }

    /// The top package a file's path puts it in (`src/` left out), or nil for a top-level module.
    static func package(of path: String) -> String? {
        var parts = path.split(separator: "/").map(String.init)
        if parts.first == "src" { parts.removeFirst() }
        return parts.count >= 2 ? parts[0] : nil
    }

    enum Kind: Equatable {
        case function(String)
        case klass(String)
        case importLine
        case other
    }

    struct Block: Equatable {
        var kind: Kind
        /// The block's lines: decorators, header and body, without the blank lines after it.
        var range: Range<Int>
    }

    /// The top-level statements of a Python file, or nil when it cannot be read line by line
    /// (an unterminated string or bracket). Lines inside brackets and triple-quoted strings
    /// belong to the statement they continue.
    static func blocks(_ lines: [String]) -> [Block]? {
        var blocks: [Block] = []
        var open: Block?
        var pendingDecorator: Int?
        var scanner = Scanner()
        for (number, line) in lines.enumerated() {
            let continuing = scanner.isContinuing
            scanner.scan(line)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if continuing || line.hasPrefix(" ") || line.hasPrefix("\t") {
                if var current = open { current.range = current.range.lowerBound..<(number + 1); open = current }
                continue
            }
            // A comment at the margin belongs to no statement: it stays where it is.
            if trimmed.hasPrefix("#") { continue }
            if let current = open { blocks.append(current) }
            open = nil
            if trimmed.hasPrefix("@") {
                pendingDecorator = pendingDecorator ?? number
                continue
            }
            let start = pendingDecorator ?? number
            pendingDecorator = nil
            open = Block(kind: kind(of: trimmed), range: start..<(number + 1))
        }
        if let current = open { blocks.append(current) }
        guard !scanner.isContinuing, pendingDecorator == nil else { return nil }
        return blocks
    }

    private static func kind(of header: String) -> Kind {
        for (prefix, make) in [("def ", Kind.function), ("async def ", Kind.function), ("class ", Kind.klass)] as [(String, (String) -> Kind)] {
            guard header.hasPrefix(prefix) else { continue }
            let name = header.dropFirst(prefix.count).prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            return name.isEmpty ? .other : make(String(name))
        }
        return header.hasPrefix("import ") || header.hasPrefix("from ") && header.contains(" import ") ? .importLine : .other
    }

    /// Tracks, across lines, whether a triple-quoted string or a bracket is still open.
    struct Scanner {
        private var quote: String?
        private var depth = 0

        var isContinuing: Bool { quote != nil || depth > 0 }

        mutating func scan(_ line: String) {
            let characters = Array(line)
            var index = 0
            while index < characters.count {
                let rest = characters[index...]
                if let open = quote {
                    if open.count == 3, rest.starts(with: Array(open)) { quote = nil; index += 3; continue }
                    if characters[index] == "\\" { index += 2; continue }
                    if open.count == 1, characters[index] == Character(open) { quote = nil }
                    index += 1
                    continue
                }
                switch characters[index] {
                case "#": return
                case "\"", "'":
                    let mark = String(characters[index])
                    if rest.starts(with: Array(String(repeating: mark, count: 3))) {
                        quote = String(repeating: mark, count: 3)
                        index += 3
                        continue
                    }
                    quote = mark
                case "(", "[", "{": depth += 1
                case ")", "]", "}": depth = max(0, depth - 1)
                default: break
                }
                index += 1
            }
            // A one-quote string never spans lines; an unclosed one is the line's mistake.
            if let open = quote, open.count == 1 { quote = nil }
        }
    }
}
