import Foundation

/// Finds definitions in languages Doer has no parser for, with regular expressions over
/// lines: the names and headers are reliable, the end lines approximate (braces counted
/// without understanding strings and comments, or indentation for Python and Ruby). Also
/// used for a Python file the `ast` helper could not read (a syntax error the model is
/// about to fix). Reading text this way runs nothing, so it happens on the host.
enum PatternScanner {
    struct Pattern {
        var regex: NSRegularExpression
        var kind: CodeDefinition.Kind
    }

    enum Block { case braces, indentation, rubyEnd }

    struct Language {
        var name: String
        var patterns: [Pattern]
        var block: Block
    }

    /// The pattern set for a file, by extension; nil for files that hold no code Doer scans.
    static func language(for path: String) -> Language? {
        let ext = (path as NSString).pathExtension.lowercased()
        switch ext {
        case "py", "pyi": return python
        case "js", "jsx", "mjs", "cjs", "ts", "tsx": return javascript
        case "go": return go
        case "rs": return rust
        case "swift": return swift
        case "java", "kt", "kts", "cs", "scala": return jvm
        case "c", "h", "cc", "cpp", "cxx", "hpp", "hh", "m", "mm": return cFamily
        case "rb": return ruby
        case "php": return php
        default: return nil
        }
    }

    private static func patterns(_ list: [(String, CodeDefinition.Kind)]) -> [Pattern] {
        list.map { Pattern(regex: try! NSRegularExpression(pattern: $0.0), kind: $0.1) }
    }

    static let python = Language(name: "python", patterns: patterns([
        (#"^\s*class\s+([A-Za-z_]\w*)"#, .class),
        (#"^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\("#, .function),
    ]), block: .indentation)
    static let javascript = Language(name: "javascript", patterns: patterns([
        (#"^\s*(?:export\s+)?(?:default\s+)?(?:abstract\s+)?class\s+([A-Za-z_$][\w$]*)"#, .class),
        (#"^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)\s*\("#, .function),
        (#"^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*=>|[A-Za-z_$][\w$]*\s*=>)"#, .function),
        (#"^\s+(?:static\s+|async\s+|public\s+|private\s+|protected\s+|get\s+|set\s+)*([A-Za-z_$][\w$]*)\s*\([^;]*\)\s*(?::\s*[^{=]+)?\{\s*$"#, .method),
    ]), block: .braces)
    static let go = Language(name: "go", patterns: patterns([
        (#"^type\s+([A-Za-z_]\w*)\s+(?:struct|interface)\b"#, .class),
        (#"^func\s+\([^)]*\)\s*([A-Za-z_]\w*)\s*[\[(]"#, .method),
        (#"^func\s+([A-Za-z_]\w*)\s*[\[(]"#, .function),
    ]), block: .braces)
    static let rust = Language(name: "rust", patterns: patterns([
        (#"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:struct|enum|trait|union)\s+([A-Za-z_]\w*)"#, .class),
        (#"^\s*impl(?:<[^>]*>)?\s+(?:[\w:<>, ]+\s+for\s+)?([A-Za-z_]\w*)"#, .class),
        (#"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?(?:extern\s+"[^"]*"\s+)?fn\s+([A-Za-z_]\w*)"#, .function),
    ]), block: .braces)
    static let swift = Language(name: "swift", patterns: patterns([
        (#"^\s*(?:@\w+\s+)*(?:(?:public|private|fileprivate|internal|open|final|package)\s+)*(?:class|struct|enum|protocol|actor|extension)\s+([A-Za-z_]\w*)"#, .class),
        (#"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|fileprivate|internal|open|final|static|class|override|mutating|nonisolated|package)\s+)*func\s+([A-Za-z_]\w*)"#, .function),
    ]), block: .braces)
    static let jvm = Language(name: "jvm", patterns: patterns([
        (#"^\s*(?:(?:public|private|protected|internal|abstract|final|static|sealed|data|open|partial)\s+)*(?:class|interface|enum|record|object|struct)\s+([A-Za-z_]\w*)"#, .class),
        (#"^\s*(?:(?:public|private|protected|internal|abstract|final|static|override|virtual|async|synchronized|open|suspend)\s+)+[\w<>\[\],.? ]+\s+([A-Za-z_]\w*)\s*\([^;]*$"#, .method),
        (#"^\s*(?:(?:public|private|protected|internal|override|open|suspend)\s+)*fun\s+(?:<[^>]*>\s*)?([A-Za-z_]\w*)\s*\("#, .function),
    ]), block: .braces)
    static let cFamily = Language(name: "c", patterns: patterns([
        (#"^\s*(?:typedef\s+)?(?:struct|class|union|enum)\s+([A-Za-z_]\w*)\s*(?::[^{;]*)?\{?\s*$"#, .class),
        (#"^(?!\s)(?!.*\b(?:return|if|while|for|switch|else)\b)[\w\*&:<>, ]+?[\s\*&]([A-Za-z_][\w:~]*)\s*\([^;]*\)?\s*(?:const)?\s*\{?\s*$"#, .function),
    ]), block: .braces)
    static let ruby = Language(name: "ruby", patterns: patterns([
        (#"^\s*(?:class|module)\s+([A-Z]\w*(?:::\w+)*)"#, .class),
        (#"^\s*def\s+(?:self\.)?([A-Za-z_]\w*[?!=]?)"#, .function),
    ]), block: .rubyEnd)
    static let php = Language(name: "php", patterns: patterns([
        (#"^\s*(?:abstract\s+|final\s+)?(?:class|interface|trait)\s+([A-Za-z_]\w*)"#, .class),
        (#"^\s*(?:(?:public|private|protected|static|abstract|final)\s+)*function\s+([A-Za-z_]\w*)\s*\("#, .function),
    ]), block: .braces)

    static let identifier = try! NSRegularExpression(pattern: #"[A-Za-z_][A-Za-z0-9_]*"#)

    /// The file's definitions, nested by position (a definition inside a class's range is
    /// its method), and the identifiers it uses.
    static func scan(path: String, text: String, language: Language) -> (definitions: [CodeDefinition], uses: [String: [Int]], lines: Int) {
        let lines = text.components(separatedBy: "\n")
        var found: [CodeDefinition] = []
        for (index, line) in lines.enumerated() where line.count < 1_000 {
            let range = NSRange(line.startIndex..., in: line)
            for pattern in language.patterns {
                guard let match = pattern.regex.firstMatch(in: line, range: range), match.numberOfRanges > 1,
                      let nameRange = Range(match.range(at: 1), in: line) else { continue }
                let name = String(line[nameRange])
                let end = endLine(lines: lines, start: index, block: language.block)
                found.append(CodeDefinition(name: name, qualifiedName: name, kind: pattern.kind, startLine: index + 1, endLine: end + 1,
                                            signature: String(line.trimmingCharacters(in: .whitespaces).prefix(240)), doc: nil))
                break
            }
        }
        // Nest by containment: the innermost class around a definition names it.
        var nested: [CodeDefinition] = []
        for definition in found {
            var copy = definition
            if let parent = nested.last(where: { $0.kind == .class && $0.startLine < definition.startLine && $0.endLine >= definition.endLine }) {
                copy.qualifiedName = parent.qualifiedName + "." + definition.name
                if copy.kind == .function { copy.kind = .method }
            } else if copy.kind == .method && language.name != "go" {
                copy.kind = .function
            }
            nested.append(copy)
        }
        var uses: [String: [Int]] = [:]
        for (index, line) in lines.enumerated() where line.count < 1_000 {
            for match in identifier.matches(in: line, range: NSRange(line.startIndex..., in: line)) {
                guard let range = Range(match.range, in: line) else { continue }
                let name = String(line[range])
                guard name.count > 1 else { continue }
                if uses[name] == nil && uses.count >= 1_500 { continue }
                if (uses[name]?.count ?? 0) < 12 && uses[name]?.last != index + 1 { uses[name, default: []].append(index + 1) }
            }
        }
        return (nested, uses, lines.count)
    }

    /// 0-based index of the definition's last line.
    static func endLine(lines: [String], start: Int, block: Block) -> Int {
        switch block {
        case .braces:
            var depth = 0
            var opened = false
            for index in start..<lines.count {
                for character in lines[index] {
                    if character == "{" { depth += 1; opened = true } else if character == "}" { depth -= 1 }
                }
                if opened && depth <= 0 { return index }
                // A declaration without a body (a prototype, a protocol requirement).
                if !opened && index > start + 3 { return start }
                if !opened && lines[index].hasSuffix(";") { return index }
            }
            return lines.count - 1
        case .indentation, .rubyEnd:
            let indent = indentation(lines[start])
            var last = start
            var index = start + 1
            // Python's header may run over several lines, until the colon.
            if block == .indentation {
                while last < lines.count - 1 && !lines[last].trimmingCharacters(in: .whitespaces).hasSuffix(":") && last - start < 12 {
                    last += 1
                }
                index = last + 1
            }
            while index < lines.count {
                let line = lines[index]
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if !trimmed.isEmpty {
                    if indentation(line) <= indent {
                        if block == .rubyEnd && trimmed == "end" { return index }
                        if block == .indentation && (trimmed.hasPrefix(")") || trimmed.hasPrefix("]")) { index += 1; continue }
                        return last
                    }
                    last = index
                }
                index += 1
            }
            return last
        }
    }

    static func indentation(_ line: String) -> Int {
        var width = 0
        for character in line {
            if character == " " { width += 1 } else if character == "\t" { width += 8 } else { break }
        }
        return width
    }

    /// Top-level import lines of a Python file, found without a parser.
    static func pythonImports(_ text: String) -> [ClosedRange<Int>] {
        var ranges: [ClosedRange<Int>] = []
        for (index, line) in text.components(separatedBy: "\n").enumerated()
            where line.hasPrefix("import ") || line.hasPrefix("from ") && line.contains(" import ") {
            ranges.append((index + 1)...(index + 1))
        }
        return ranges
    }
}
