/// A function, class or method of a workspace file, as the index found it.
struct CodeDefinition: Sendable, Hashable, Codable {
    enum Kind: String, Sendable, Hashable, Codable {
        case function, method, `class`
    }

    /// The bare name (`parse`).
    var name: String
    /// With the names of what encloses it (`Parser.parse`).
    var qualifiedName: String
    var kind: Kind
    /// 1-based, inclusive; decorators belong to the definition.
    var startLine: Int
    var endLine: Int
    /// The header as written (`def parse(self, text: str) -> Node:`), on one line.
    var signature: String
    /// The first line of its docstring, when it has one.
    var doc: String?

    /// The qualified name of the enclosing definition (`Parser` for `Parser.parse`).
    var parentName: String? {
        guard let dot = qualifiedName.lastIndex(of: ".") else { return nil }
        return String(qualifiedName[..<dot])
    }

    var lineCount: Int { endLine - startLine + 1 }

    func contains(line: Int) -> Bool { (startLine...max(startLine, endLine)).contains(line) }
}
