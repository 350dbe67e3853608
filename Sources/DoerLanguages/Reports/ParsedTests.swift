public import DoerCore
import Foundation

/// What a test step's output said: the tests, and programs that died instead of reporting.
public struct ParsedTests: Sendable, Hashable {
    public var tests: [TestCaseResult]
    /// One line per test program that crashed (killed by a signal, or ended before its plan).
    public var crashes: [String]

    public init(tests: [TestCaseResult] = [], crashes: [String] = []) {
        self.tests = tests
        self.crashes = crashes
    }

    mutating func append(_ other: ParsedTests) {
        tests += other.tests
        crashes += other.crashes
    }
}

/// Splits output framed by `##doer-begin NAME` / `##doer-end NAME STATUS` (one block per
/// test program); output outside frames is one unnamed block with no status.
struct ProgramFrames {
    struct Frame {
        var name: String?
        var lines: [Substring]
        var status: Int?
    }

    static func split(_ text: String) -> [Frame] {
        var frames: [Frame] = []
        var current = Frame(name: nil, lines: [], status: nil)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("##doer-begin ") {
                if current.name != nil || !current.lines.isEmpty { frames.append(current) }
                current = Frame(name: String(line.dropFirst("##doer-begin ".count)), lines: [], status: nil)
            } else if line.hasPrefix("##doer-end ") {
                let fields = line.dropFirst("##doer-end ".count)
                if let space = fields.lastIndex(of: " ") { current.status = Int(fields[fields.index(after: space)...]) }
                frames.append(current)
                current = Frame(name: nil, lines: [], status: nil)
            } else {
                current.lines.append(line)
            }
        }
        if current.name != nil || current.lines.contains(where: { !$0.isEmpty }) { frames.append(current) }
        return frames
    }

    /// A crash line for a program that a shell reported as killed by a signal.
    static func crash(_ frame: Frame, lastTest: String?) -> String? {
        guard let status = frame.status, status > 128 else { return nil }
        let program = frame.name ?? "the test program"
        let during = lastTest.map { " (in or after test \($0))" } ?? ""
        return "\(program) was killed by signal \(status - 128)\(Signals.name(status - 128))\(during)"
    }
}

enum Signals {
    static func name(_ signal: Int) -> String {
        let names = [4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM"]
        return names[signal].map { " (\($0))" } ?? ""
    }
}

extension String {
    /// At most `limit` characters, cut at the end with a marker.
    func trimmedMessage(limit: Int = 2000) -> String {
        let trimmed = trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.count > limit ? String(trimmed.prefix(limit)) + " […]" : trimmed
    }
}
