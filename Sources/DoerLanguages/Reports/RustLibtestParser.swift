public import DoerCore
import Foundation

/// Reads libtest's text output (`test name ... ok`), one frame per test binary.
public enum RustLibtestParser {
    public static func parse(_ text: String) -> ParsedTests {
        var parsed = ParsedTests()
        for frame in ProgramFrames.split(text) {
            let suite = frame.name.map(stripHash)
            var tests: [TestCaseResult] = []
            var details: [String: [String]] = [:]
            var section: String?
            for line in frame.lines {
                if line.hasPrefix("test "), let marker = line.range(of: " ... ") {
                    let name = String(line[line.index(line.startIndex, offsetBy: 5)..<marker.lowerBound])
                    let verdict = line[marker.upperBound...].trimmingCharacters(in: .whitespaces)
                    let status: TestCaseResult.Status = verdict == "ok" ? .passed : verdict.hasPrefix("ignored") ? .skipped : .failed
                    tests.append(TestCaseResult(name: name, suite: suite, status: status))
                    continue
                }
                if line.hasPrefix("---- "), line.hasSuffix(" stdout ----") {
                    section = String(line.dropFirst(5).dropLast(" stdout ----".count))
                    continue
                }
                if line == "failures:" || line.hasPrefix("test result:") { section = nil; continue }
                if let section, !line.hasPrefix("note: run with `RUST_BACKTRACE") {
                    details[section, default: []].append(String(line))
                }
            }
            for i in tests.indices where tests[i].status == .failed {
                let message = details[tests[i].name]?.joined(separator: "\n").trimmedMessage()
                tests[i].message = message
            }
            parsed.tests += tests
            let started = frame.lines.last { $0.hasPrefix("test ") && !$0.contains(" ... ") }
                .map { String($0.dropFirst(5)) }
            if let crash = ProgramFrames.crash(frame, lastTest: started) {
                parsed.crashes.append(crash)
            } else if let status = frame.status, status != 0, tests.isEmpty {
                parsed.crashes.append("\(suite ?? "the test binary") exited with status \(status) before reporting any test")
            }
        }
        return parsed
    }

    /// Cargo names test binaries `crate-0123456789abcdef`.
    private static func stripHash(_ name: String) -> String {
        guard let dash = name.lastIndex(of: "-") else { return name }
        let hash = name[name.index(after: dash)...]
        return hash.count == 16 && hash.allSatisfy(\.isHexDigit) ? String(name[..<dash]) : name
    }
}
