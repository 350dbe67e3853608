import Foundation

/// What a small model gets wrong in a Go file that Go refuses to build, mended the way
/// `goimports` would: an import the file never uses is dropped (Go fails the whole package
/// on it), a standard package the file uses but never imports is added, and a test beside
/// its code that declares `package NAME_test` without importing NAME is put in `package
/// NAME`, where the names it calls are. Nothing the file does changes.
///
/// Without this, a candidate stuck on `imported and not used: "strings"` spends every turn
/// rewriting the same file with the same import, and never gets to what was asked.
enum GoImports {
    /// Standard packages a file refers to by these names, and their import paths.
    static let standard: [String: String] = [
        "fmt": "fmt", "strings": "strings", "strconv": "strconv", "sort": "sort", "errors": "errors", "math": "math",
        "unicode": "unicode", "bytes": "bytes", "os": "os", "time": "time", "reflect": "reflect", "regexp": "regexp",
        "utf8": "unicode/utf8", "slices": "slices", "maps": "maps", "bufio": "bufio", "io": "io",
    ]

    /// The file mended, or nil when nothing needed it.
    /// - Parameter package: the package the code beside it declares (for a test file).
    static func tidied(_ source: String, package: String? = nil, isTest: Bool = false) -> String? {
        var lines = source.components(separatedBy: "\n")
        guard let clause = lines.firstIndex(where: { $0.hasPrefix("package ") }) else { return nil }
        var changed = false
        // `package strutil_test` beside `package strutil`, with no import of it: its calls of
        // `Reverse` cannot build. In the package itself they do.
        if isTest, let package, lines[clause].trimmingCharacters(in: .whitespaces) == "package \(package)_test",
           !source.contains("/\(package)\"") && !source.contains("\"\(package)\"") {
            lines[clause] = "package \(package)"
            changed = true
        }
        let imports = importLines(lines)
        // What the code says, not its comments or strings: `// like strings.Fields` uses nothing.
        let body = codeOnly(lines.enumerated().filter { !imports.lines.contains($0.offset) && $0.offset != clause }.map(\.element)
            .joined(separator: "\n"))
        let used = { (name: String) in body.range(of: "(?<![\\w.])\(name)\\.", options: .regularExpression) != nil }
        // Unused: a plain import of a standard path (aliases, `_` and dot imports are left as they are).
        var removed: Set<Int> = []
        for (index, path) in imports.paths {
            let name = String(path.split(separator: "/").last ?? "")
            if standard[name] == path, !used(name) { removed.insert(index) }
        }
        let imported = Set(imports.paths.map(\.path))
        let missing = standard.filter { name, path in !imported.contains(path) && used(name) && !declares(name, in: body) }
            .map(\.value).sorted()
        guard changed || !removed.isEmpty || !missing.isEmpty else { return nil }
        var kept = lines.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        // An import block left empty (`import (` `)`) goes too.
        if let open = kept.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "import (" }),
           open + 1 < kept.count, kept[open + 1].trimmingCharacters(in: .whitespaces) == ")" {
            kept.removeSubrange(open...(open + 1))
        }
        if !missing.isEmpty, let at = kept.firstIndex(where: { $0.hasPrefix("package ") }) {
            kept.insert(contentsOf: ["", "import ("] + missing.map { "\t\"\($0)\"" } + [")"], at: at + 1)
        }
        return kept.joined(separator: "\n")
    }

    /// The lines of the import declarations and the path each imports (by line).
    private static func importLines(_ lines: [String]) -> (lines: Set<Int>, paths: [(index: Int, path: String)]) {
        var inBlock = false
        var all: Set<Int> = []
        var paths: [(Int, String)] = []
        for (index, line) in lines.enumerated() {
            let text = line.trimmingCharacters(in: .whitespaces)
            if inBlock {
                all.insert(index)
                if text == ")" { inBlock = false; continue }
                if let path = quotedPath(text) { paths.append((index, path)) }
            } else if text == "import (" {
                inBlock = true
                all.insert(index)
            } else if text.hasPrefix("import \"") {
                all.insert(index)
                if let path = quotedPath(String(text.dropFirst("import ".count))) { paths.append((index, path)) }
            }
        }
        return (all, paths)
    }

    /// The path of an import spec that starts with it (`"strings" // for Fields` → strings);
    /// nil for an aliased, blank or dot import.
    private static func quotedPath(_ text: String) -> String? {
        guard text.hasPrefix("\""), let close = text.dropFirst().firstIndex(of: "\"") else { return nil }
        let path = String(text[text.index(after: text.startIndex)..<close])
        return path.isEmpty ? nil : path
    }

    /// `source` with its comments and string and rune literals blanked out.
    static func codeOnly(_ source: String) -> String {
        var out = String.UnicodeScalarView()
        var scalars = source.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let held = pending { pending = nil; return held }
            return scalars.next()
        }
        while let scalar = next() {
            switch scalar {
            case "/":
                guard let following = next() else { out.append(scalar); break }
                if following == "/" {
                    while let skipped = next(), skipped != "\n" {}
                    out.append("\n")
                } else if following == "*" {
                    var last: Unicode.Scalar = " "
                    while let skipped = next() {
                        if last == "*" && skipped == "/" { break }
                        if skipped == "\n" { out.append("\n") }
                        last = skipped
                    }
                    out.append(" ")
                } else {
                    out.append(scalar)
                    pending = following
                }
            case "\"", "'", "`":
                // A literal becomes an empty one; escapes are skipped with what they escape.
                out.append(scalar)
                while let skipped = next(), skipped != scalar {
                    if skipped == "\\" && scalar != "`" { _ = next() }
                    if skipped == "\n" && scalar != "`" { break }
                }
                out.append(scalar)
            default:
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Whether the file declares `name` itself (a variable or parameter called `strings`).
    private static func declares(_ name: String, in body: String) -> Bool {
        body.range(of: "\\b\(name)\\s*(:=|,[^\\n]*:=|\\s+[\\w\\[\\]*.]+\\s*[,)=])", options: .regularExpression) != nil
            || body.range(of: "\\bvar\\s+\(name)\\b|\\bfunc\\s+\(name)\\b|\\btype\\s+\(name)\\b", options: .regularExpression) != nil
    }
}
