import DoerCore
@testable import DoerModels
import Foundation
import Testing

/// Real replies of the bundled local model (Qwen2.5-Coder 0.5B Instruct, llama-server), each
/// beside the actions a correct parse gives (`*.expected.json`, a JSON-encoded `[Action]`).
enum ActionParserCorpus {
    struct Sample: Sendable, CustomStringConvertible {
        var name: String
        var text: String
        var expectedJSON: Data?
        var description: String { name }
    }

    static let directory: URL? = Bundle.module.url(forResource: "Fixtures", withExtension: nil)?
        .appendingPathComponent("corpus", isDirectory: true)

    static func load() throws -> [Sample] {
        guard let directory else { return [] }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return try names.filter { $0.hasSuffix(".txt") }.sorted().map { name in
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            let expected = directory.appendingPathComponent(String(name.dropLast(4)) + ".expected.json")
            return Sample(name: name, text: text, expectedJSON: try? Data(contentsOf: expected))
        }
    }

    static let samples: [Sample] = (try? load()) ?? []
}

@Suite("text action protocol: corpus of real model replies")
struct ActionParserCorpusTests {
    @Test("the corpus is there, and every reply has its expected actions")
    func corpusPresent() throws {
        let samples = try ActionParserCorpus.load()
        #expect(samples.count >= 12)
        for sample in samples {
            #expect(sample.expectedJSON != nil, "\(sample.name) has no .expected.json")
        }
    }

    @Test("each reply parses to exactly the expected actions", arguments: ActionParserCorpus.samples)
    func corpus(sample: ActionParserCorpus.Sample) throws {
        let json = try #require(sample.expectedJSON)
        let expected = try JSONDecoder().decode([Action].self, from: json)
        let result = ActionParser().parse(sample.text)
        #expect(result.actions == expected, "\(sample.name)")
        #expect(!result.actions.isEmpty || !result.problems.isEmpty, "\(sample.name) gave neither actions nor problems")
    }
}

/// SplitMix64: small, fast and the same on every platform, so a failing case can be replayed.
struct ActionParserFuzzRNG: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("text action protocol: fuzzing")
struct ActionParserFuzzTests {
    static let seeds: [String] = [
        "```file a.py\nx = 1\n```\n```edit a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```\n```run\npytest\n```",
        "**app.py**\n```python\nprint(1)\n```\n````file README.md\n```bash\nls\n```\n````\n",
        "```markdown\n```file a.py\nx\n```\n```\n1. `b.py`:\n   ```python\n   y\n   ```\n",
        "~~~file c.txt\n```\n~~~\n```console\n$ ls\nout\n```\n```edit\n<<<<<<< SEARCH\n",
    ]

    static let insertions: [String] = [
        "```", "````", "~~~", "`", "\r", "\r\n", "\n", "\0", "é", "\u{301}", "🙂", "\u{FEFF}", "\u{2028}", "\t", " ",
        "<<<<<<< SEARCH\n", "=======\n", ">>>>>>> REPLACE\n", "\n```file ../x.py\n", "\n```file /etc/x\n", "\n```edit \n",
        "\n**../a.py**\n", "\n# file: ~/x.py\n", "\n```python C:\\x.py\n", "\n```run\n", "$ ", "\n```\n", "./", "..",
        "\n```file a/../../b\n", "\n`..`:\n```python\n", "\"", "**",
    ]

    static func mangle(_ text: String, using rng: inout ActionParserFuzzRNG) -> String {
        var scalars = Array(text.unicodeScalars)
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0 where !scalars.isEmpty:
                scalars.removeLast(Int.random(in: 0..<scalars.count, using: &rng))
            case 1, 2:
                let insertion = insertions.randomElement(using: &rng)!
                scalars.insert(contentsOf: insertion.unicodeScalars, at: Int.random(in: 0...scalars.count, using: &rng))
            case 3:
                var lines = String(String.UnicodeScalarView(scalars)).split(separator: "\n", omittingEmptySubsequences: false)
                lines.shuffle(using: &rng)
                scalars = Array(lines.joined(separator: "\n").unicodeScalars)
            case 4 where !scalars.isEmpty:
                let start = Int.random(in: 0..<scalars.count, using: &rng)
                let end = min(scalars.count, start + Int.random(in: 1...200, using: &rng))
                scalars.insert(contentsOf: scalars[start..<end], at: Int.random(in: 0...scalars.count, using: &rng))
            default:
                if !scalars.isEmpty { scalars.remove(at: Int.random(in: 0..<scalars.count, using: &rng)) }
            }
        }
        return String(String.UnicodeScalarView(scalars))
    }

    static func isSafe(_ path: String) -> Bool {
        !path.isEmpty && !path.hasPrefix("/") && !path.hasPrefix("~") && !path.contains("\\")
            && !path.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == ".." || $0.isEmpty })
            && !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
            && !(path.unicodeScalars.count >= 2 && Array(path.unicodeScalars)[1] == ":")
    }

    /// Empty, or ending in one newline after a line that is not blank.
    static func endsWithOneNewline(_ content: String) -> Bool {
        guard !content.isEmpty else { return true }
        guard content.hasSuffix("\n") else { return false }
        let last = ActionParser.lines(of: String(content.dropLast())).last ?? ""
        return !ActionParser.isBlank(last)
    }

    @Test("2,000 mangled replies parse without crashing, and every path stays in the workspace")
    func fuzz() {
        let sources = ActionParserCorpus.samples.map(\.text) + Self.seeds
        var rng = ActionParserFuzzRNG(state: 0x5EED_D0E5)
        let parser = ActionParser()
        var actionCount = 0
        for iteration in 0..<2_000 {
            let source = sources[iteration % sources.count]
            let text = Self.mangle(source, using: &rng)
            let result = parser.parse(text)
            actionCount += result.actions.count
            let lineCount = ActionParser.lines(of: text).count
            for action in result.actions {
                switch action {
                case .writeFile(let path, let content):
                    #expect(Self.isSafe(path), "iteration \(iteration): unsafe path \(path.debugDescription)")
                    #expect(Self.endsWithOneNewline(content), "iteration \(iteration): \(content.suffix(20).debugDescription)")
                case .editFile(let path, let search, _):
                    #expect(Self.isSafe(path), "iteration \(iteration): unsafe path \(path.debugDescription)")
                    #expect(!search.isEmpty)
                case .runCommand(let command):
                    #expect(!command.isEmpty)
                }
            }
            for problem in result.problems {
                #expect((1...max(1, lineCount)).contains(problem.line), "iteration \(iteration): \(problem)")
            }
            let blank = text.unicodeScalars.allSatisfy(ActionParser.isBlankScalar)
            #expect(blank || !result.actions.isEmpty || !result.problems.isEmpty, "iteration \(iteration) gave nothing")
            if iteration % 50 == 0 { #expect(parser.parse(text) == result, "parsing is deterministic") }
        }
        // The mangling must leave most replies recognisable, or the test proves little.
        #expect(actionCount > 2_000)
    }
}
