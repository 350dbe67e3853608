public import DoerCore
import Foundation

/// Reads XCTest's console output on Linux, one frame per test bundle.
public enum XCTestParser {
    private static let casePattern = try! NSRegularExpression(
        pattern: #"^Test Case '([^']+)' (started|passed|failed|skipped)"#)
    private static let issuePattern = try! NSRegularExpression(pattern: #"^(.*?):(\d+): error: (\S+) : (.*)$"#)

    public static func parse(_ text: String) -> ParsedTests {
        var parsed = ParsedTests()
        for frame in ProgramFrames.split(text) {
            var tests: [TestCaseResult] = []
            var messages: [String: [String]] = [:]
            var running: String?
            for line in frame.lines.map(String.init) {
                let range = NSRange(line.startIndex..., in: line)
                if let m = casePattern.firstMatch(in: line, range: range) {
                    let full = String(line[Range(m.range(at: 1), in: line)!])
                    let verdict = String(line[Range(m.range(at: 2), in: line)!])
                    if verdict == "started" { running = full; continue }
                    running = nil
                    let parts = full.split(separator: ".", maxSplits: 1).map(String.init)
                    let status: TestCaseResult.Status = verdict == "passed" ? .passed : verdict == "skipped" ? .skipped : .failed
                    tests.append(TestCaseResult(name: parts.last ?? full, suite: parts.count > 1 ? parts[0] : nil, status: status,
                                                message: status == .failed ? messages[full]?.joined(separator: "\n").trimmedMessage() : nil))
                } else if let m = issuePattern.firstMatch(in: line, range: range) {
                    let test = String(line[Range(m.range(at: 3), in: line)!])
                    let file = String(line[Range(m.range(at: 1), in: line)!])
                    let lineNumber = String(line[Range(m.range(at: 2), in: line)!])
                    var message = String(line[Range(m.range(at: 4), in: line)!])
                    if message.hasSuffix(" - ") { message = String(message.dropLast(3)) }
                    messages[test, default: []].append("\(file):\(lineNumber): \(message)")
                }
            }
            parsed.tests += tests
            if let crash = ProgramFrames.crash(frame, lastTest: running) {
                parsed.crashes.append(crash)
            } else if let status = frame.status, status != 0, tests.isEmpty {
                parsed.crashes.append("\(frame.name ?? "the test bundle") exited with status \(status) before reporting any test")
            }
        }
        return parsed
    }
}
