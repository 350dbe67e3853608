import DoerCore
@testable import DoerAgent
import DoerSandbox
import Foundation
import Testing

@Suite("the workspace index: definitions, imports and uses, cached by stamp")
struct RepositoryIndexTests {
    @Test("a real multi-file Python project: every function, class and method with its lines, header and docstring")
    func realProject() async throws {
        let files = try RepositoryFixture.files()
        let ws = try AgentWorkspace(files: files)
        let index = try await RepositoryFixture.index(ws, sandbox: try RepositoryFixture.sandbox())
        #expect(Set(index.paths) == Set(files.keys.filter { $0.hasSuffix(".py") }))
        let decoder = try #require(index.files["jsonkit/decoder.py"])
        #expect(decoder.parsed, "the ast helper read it")
        let lines = files["jsonkit/decoder.py"]!.components(separatedBy: "\n")
        let rawDecode = try #require(decoder.definitions.first { $0.qualifiedName == "JSONDecoder.raw_decode" })
        #expect(rawDecode.kind == .method)
        #expect(lines[rawDecode.startLine - 1].contains("def raw_decode(self, s, idx=0):"))
        #expect(rawDecode.signature == "def raw_decode(self, s, idx=0):")
        #expect(rawDecode.doc?.hasPrefix("Decode a JSON document from ``s``") == true, "\(rawDecode.doc ?? "nil")")
        #expect(lines[rawDecode.endLine - 1].contains("return obj, end"))
        let klass = try #require(decoder.definitions.first { $0.qualifiedName == "JSONDecoder" })
        #expect(klass.kind == .class && klass.contains(line: rawDecode.startLine))
        #expect(decoder.enclosing(line: rawDecode.startLine + 3)?.qualifiedName == "JSONDecoder.raw_decode")
        #expect(decoder.definitions.contains { $0.qualifiedName == "py_scanstring" && $0.kind == .function })
        #expect(!decoder.imports.isEmpty && lines[decoder.imports[0].lowerBound - 1].hasPrefix("import re"))
        #expect(decoder.uses["scanstring"]?.isEmpty == false)
        // Every module of the package is there, with the definitions a reader would list.
        #expect(index.definitions(named: "dumps").contains { $0.path == "jsonkit/__init__.py" })
        #expect(index.definitions(named: "JSONEncoder.iterencode").count == 1)
        #expect(index.uses(of: "JSONDecodeError").count > 3)
    }

    @Test("repeat runs read only what changed: unchanged stamps come from the cache on disk")
    func cache() async throws {
        let ws = try AgentWorkspace(files: try RepositoryFixture.files())
        let cache = RepositoryFixture.staging.appendingPathComponent("cache-\(UUID().uuidString.prefix(6))")
        defer { try? FileManager.default.removeItem(at: cache) }
        let sandbox = CountingSandbox(try RepositoryFixture.sandbox())
        let first = try await RepositoryFixture.index(ws, sandbox: sandbox, cache: cache)
        #expect(sandbox.runs == 1, "one helper run for the whole project")
        let second = try await RepositoryFixture.index(ws, sandbox: sandbox, cache: cache)
        #expect(sandbox.runs == 1, "nothing changed, nothing parsed again")
        #expect(second == first)
        // A changed file is read again, and only it.
        let scanner = ws.url.appendingPathComponent("jsonkit/scanner.py")
        try (ws.read("jsonkit/scanner.py")! + "\n\ndef added_helper(x):\n    return x\n").write(to: scanner, atomically: true, encoding: .utf8)
        let third = try await RepositoryFixture.index(ws, sandbox: sandbox, cache: cache)
        #expect(sandbox.runs == 2)
        #expect(third.definitions(named: "added_helper").count == 1)
        #expect(third.files["jsonkit/decoder.py"] == first.files["jsonkit/decoder.py"])
        // Another workspace has its own cache.
        let other = try AgentWorkspace(files: ["a.py": "def a():\n    return 1\n"])
        let otherIndex = try await RepositoryFixture.index(other, sandbox: sandbox, cache: cache)
        #expect(otherIndex.paths == ["a.py"])
    }

    @Test("a file with a syntax error, links and files too large are handled without the helper's word")
    func awkwardFiles() async throws {
        let ws = try AgentWorkspace(files: [
            "broken.py": "class Parser:\n    def parse(self, text):\n        return text +\n\n\ndef helper(:\n    pass\n",
            "ok.py": "def fine():\n    return 1\n",
            "big.py": "x = 1\n" + String(repeating: "# padding line\n", count: 80_000),
        ])
        let outside = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("outside-\(UUID().uuidString.prefix(6)).py")
        try "def secret_outside():\n    return 'x'\n".write(to: outside, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: outside) }
        try FileManager.default.createSymbolicLink(atPath: ws.url.appendingPathComponent("linked.py").path, withDestinationPath: outside.path)
        let index = try await RepositoryFixture.index(ws, sandbox: try RepositoryFixture.sandbox())
        let broken = try #require(index.files["broken.py"])
        #expect(!broken.parsed, "the pattern scanner stood in")
        #expect(broken.definitions.contains { $0.qualifiedName == "Parser.parse" && $0.kind == .method })
        #expect(index.files["ok.py"]?.parsed == true)
        #expect(index.files["linked.py"] == nil, "a link is never followed")
        #expect(index.definitions(named: "secret_outside").isEmpty)
        #expect(index.files["big.py"] == nil, "larger than the index reads")
    }

    @Test("other languages: definitions found by patterns, with approximate ends")
    func otherLanguages() {
        let js = "export class Cart {\n  total(items) {\n    return items.length;\n  }\n}\n\nexport function checkout(cart) {\n  return cart;\n}\nconst pay = async (x) => {\n  return x;\n};\n"
        let scan = PatternScanner.scan(path: "cart.js", text: js, language: PatternScanner.javascript)
        #expect(scan.definitions.map(\.qualifiedName) == ["Cart", "Cart.total", "checkout", "pay"])
        #expect(scan.definitions.first { $0.name == "Cart" }?.endLine == 5)
        #expect(scan.definitions.first { $0.name == "checkout" }.map { ($0.startLine, $0.endLine) } ?? (0, 0) == (7, 9))
        let go = "package cart\n\ntype Cart struct {\n\tItems []int\n}\n\nfunc (c *Cart) Total() int {\n\treturn len(c.Items)\n}\n\nfunc New() *Cart {\n\treturn &Cart{}\n}\n"
        let goScan = PatternScanner.scan(path: "cart.go", text: go, language: PatternScanner.go)
        #expect(goScan.definitions.map(\.name) == ["Cart", "Total", "New"])
        #expect(goScan.definitions.first { $0.name == "Total" }?.kind == .method)
        let ruby = "class Cart\n  def total\n    1\n  end\nend\n"
        #expect(PatternScanner.scan(path: "cart.rb", text: ruby, language: PatternScanner.ruby).definitions.map(\.qualifiedName) == ["Cart", "Cart.total"])
    }
}
