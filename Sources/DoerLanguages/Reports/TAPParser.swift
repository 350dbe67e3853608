public import DoerCore
import Foundation

/// Reads TAP: node's nested subtests (indented, with YAML diagnostics), bats, Test::More,
/// LuaUnit and Doer's own harnesses (`# message` lines after `not ok`).
public enum TAPParser {
    public static func parse(_ text: String) -> ParsedTests {
        var parsed = ParsedTests()
        for frame in ProgramFrames.split(text) {
            let tests = parseFrame(frame.lines, suite: frame.name)
            parsed.tests += tests
            if let crash = ProgramFrames.crash(frame, lastTest: lastStarted(frame.lines) ?? tests.last?.name) {
                parsed.crashes.append(crash)
            } else if let status = frame.status, status != 0, tests.isEmpty {
                parsed.crashes.append("\(frame.name ?? "the test program") exited with status \(status) before reporting any test")
            }
        }
        return parsed
    }

    /// Doer's harnesses print `# running NAME` before each test, which names the test a crash hit.
    private static func lastStarted(_ lines: [Substring]) -> String? {
        guard let last = lines.last(where: { $0.hasPrefix("# running ") }) else { return nil }
        let name = String(last.dropFirst("# running ".count))
        let finished = lines.contains { ($0.hasPrefix("ok ") || $0.hasPrefix("not ok ")) && $0.hasSuffix(" - " + name) }
        return finished ? nil : name
    }

    private struct Point {
        var indent: Int
        var ok: Bool
        var name: String
        var directive: String?
        var diagnostics: [String] = []
        var hasChildren = false
    }

    private static let pointPattern = try! NSRegularExpression(
        pattern: #"^(\s*)(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$"#)

    private static func parseFrame(_ lines: [Substring], suite: String?) -> [TestCaseResult] {
        var points: [Point] = []
        var inYAML = false
        var yamlIndent = 0
        for raw in lines {
            let line = String(raw)
            let indent = line.prefix { $0 == " " }.count
            let body = line.dropFirst(indent)
            if inYAML {
                if body == "..." && indent <= yamlIndent { inYAML = false; continue }
                if !points.isEmpty { points[points.count - 1].diagnostics.append(line) }
                continue
            }
            if body == "---", !points.isEmpty {
                inYAML = true
                yamlIndent = indent
                continue
            }
            let range = NSRange(line.startIndex..., in: line)
            if let match = pointPattern.firstMatch(in: line, range: range),
               let okRange = Range(match.range(at: 2), in: line), let rest = Range(match.range(at: 4), in: line) {
                var name = String(line[rest]).trimmingCharacters(in: .whitespaces)
                var directive: String?
                if let hash = name.range(of: " # ", options: .backwards) ?? (name.hasPrefix("# ") ? name.range(of: "# ") : nil) {
                    directive = String(name[hash.upperBound...])
                    name = String(name[..<hash.lowerBound]).trimmingCharacters(in: .whitespaces)
                }
                // In node's TAP a parent's own line follows its (more indented) children.
                let isParent = (points.last?.indent ?? 0) > indent
                points.append(Point(indent: indent, ok: line[okRange] == "ok", name: name, directive: directive,
                                    hasChildren: isParent))
                continue
            }
            guard let last = points.last, !last.ok, indent >= last.indent, !body.hasPrefix("# Subtest:") else { continue }
            if body.hasPrefix("#") {
                points[points.count - 1].diagnostics.append(String(body.dropFirst().drop { $0 == " " }))
            } else if indent > last.indent, !body.isEmpty {
                // testthat's TAP reporter indents the failure under its test point instead of commenting it.
                points[points.count - 1].diagnostics.append(String(body))
            }
        }
        // Only leaves are tests; a parent (a file or a describe block) passes or fails with them,
        // except a failing parent without failing children, which failed on its own (a crash at load).
        var results: [TestCaseResult] = []
        for (index, point) in points.enumerated() {
            if point.hasChildren {
                var childFailed = false
                var i = index - 1
                while i >= 0, points[i].indent > point.indent {
                    if !points[i].ok { childFailed = true }
                    i -= 1
                }
                if point.ok || childFailed { continue }
            }
            let directive = point.directive?.lowercased() ?? ""
            let skipped = directive.hasPrefix("skip") || directive.hasPrefix("todo")
            let message = point.ok ? nil : message(from: point.diagnostics)
            var status: TestCaseResult.Status = skipped ? .skipped : (point.ok ? .passed : .failed)
            var text = message
            if !point.ok, let m = message, m.hasPrefix("error: ") {
                status = .errored
                text = String(m.dropFirst("error: ".count))
            } else if !point.ok, let m = message, m.hasPrefix("Error in ") {
                status = .errored
            }
            // node: an assertion carries code ERR_ASSERTION; anything else thrown is an error.
            if !point.ok, point.diagnostics.contains(where: { $0.contains("failureType:") }),
               !point.diagnostics.contains(where: { $0.contains("code: 'ERR_ASSERTION'") }) {
                status = .errored
            }
            results.append(TestCaseResult(name: point.name, suite: suite, status: status, message: text))
        }
        return results
    }

    /// node's YAML `error:` value, or the `#` comment lines.
    private static func message(from diagnostics: [String]) -> String? {
        if let errorIndex = diagnostics.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("error:") }) {
            let first = diagnostics[errorIndex].trimmingCharacters(in: .whitespaces).dropFirst("error:".count)
                .trimmingCharacters(in: .whitespaces)
            var value: String
            if first == "|-" || first == "|" || first == ">-" {
                let baseIndent = diagnostics[errorIndex].prefix { $0 == " " }.count
                var block: [String] = []
                for line in diagnostics[(errorIndex + 1)...] {
                    let indent = line.prefix { $0 == " " }.count
                    if indent <= baseIndent && !line.trimmingCharacters(in: .whitespaces).isEmpty { break }
                    block.append(line.trimmingCharacters(in: .whitespaces))
                }
                value = block.joined(separator: "\n")
            } else {
                value = first
                if value.hasPrefix("'"), value.hasSuffix("'"), value.count >= 2 {
                    value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'")
                } else if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                    value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "\\n", with: "\n")
                }
            }
            return value.trimmedMessage()
        }
        // Harness and summary chatter that follows the last failure is not part of it.
        let chatter = ["running ", "Looks like you", "Ran ", "Started on", "Starting class", "tests ", "suites ", "pass ",
                       "fail ", "cancelled ", "skipped ", "todo ", "duration_ms "]
        let lines = diagnostics.filter { line in !line.isEmpty && !chatter.contains { line.hasPrefix($0) } }
        return lines.isEmpty ? nil : lines.joined(separator: "\n").trimmedMessage()
    }
}
