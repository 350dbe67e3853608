public import DoerCore
import Foundation

/// Reads minitest's `--verbose` output: `Class#test_name = 0.00 s = .` lines, then the
/// numbered Failure/Error blocks.
public enum MinitestParser {
    private static let linePattern = try! NSRegularExpression(pattern: #"^(\S+)#(\S+) = ([0-9.]+) s = ([.FES])$"#)
    private static let blockPattern = try! NSRegularExpression(
        pattern: #"^\s*\d+\) (Failure|Error|Skipped):\n(\S+)#(\S+?)(?: \[[^\n]*\])?:\n(.*?)(?=\n\s*\d+\) (?:Failure|Error|Skipped):\n|\n\n\d+ runs|\n*\z)"#,
        options: [.anchorsMatchLines, .dotMatchesLineSeparators])

    public static func parse(_ text: String) -> ParsedTests {
        var tests: [TestCaseResult] = []
        for line in text.split(separator: "\n") {
            let s = String(line)
            guard let m = linePattern.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) else { continue }
            func group(_ i: Int) -> String { Range(m.range(at: i), in: s).map { String(s[$0]) } ?? "" }
            let status: TestCaseResult.Status = switch group(4) {
            case ".": .passed
            case "F": .failed
            case "E": .errored
            default: .skipped
            }
            tests.append(TestCaseResult(name: group(2), suite: group(1), status: status,
                                        durationMs: Double(group(3)).map { $0 * 1000 }))
        }
        let range = NSRange(text.startIndex..., in: text)
        for m in blockPattern.matches(in: text, range: range) {
            func group(_ i: Int) -> String { Range(m.range(at: i), in: text).map { String(text[$0]) } ?? "" }
            if let i = tests.firstIndex(where: { $0.suite == group(2) && $0.name == group(3) }) {
                tests[i].message = group(4).trimmedMessage()
            }
        }
        return ParsedTests(tests: tests)
    }
}
