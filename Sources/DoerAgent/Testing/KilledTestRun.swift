import DoerCore
import Foundation

/// What the model is told when the sandbox stopped a test run. A run killed for its memory
/// or its time prints no failure: pytest dies before its summary, so the trimmed output was
/// empty and the model was asked to repair "```\n```" — code that never ends (an endless
/// loop, an endless iterator turned into a list) was then rewritten blindly or not at all.
enum KilledTestRun {
    enum Cause: Equatable {
        case memory(limit: Int64?)
        case time(seconds: Double)
        case signal(Int32)

        /// Whether running the tests again to learn more costs little: not after a time limit.
        var comesQuickly: Bool {
            if case .time = self { return false }
            return true
        }
    }

    static func cause(of result: ExecutionResult, limits: ResourceLimits) -> Cause? {
        if result.memoryKilled { return .memory(limit: limits.memoryBytes) }
        if result.timedOut { return .time(seconds: limits.wallClockSeconds) }
        if case .signaled(let signal) = result.termination { return .signal(signal) }
        return nil
    }

    /// pytest's verbose mode prints a test's id before running it, so when a run dies the
    /// last id without a verdict after it names the test that was running.
    static func runningTest(inVerboseOutput output: String) -> String? {
        let verdicts = ["PASSED", "FAILED", "ERROR", "SKIPPED", "XFAIL", "XPASS"]
        for line in output.components(separatedBy: "\n").reversed() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard let separator = trimmed.range(of: "::"), !trimmed.hasPrefix("FAILED "), !trimmed.hasPrefix("ERROR ") else { continue }
            if verdicts.contains(where: { trimmed.contains(" \($0)") }) { return nil }
            let id = trimmed[..<separator.lowerBound] + trimmed[separator.lowerBound...].prefix { !$0.isWhitespace }
            return String(id)
        }
        return nil
    }

    /// The failure the model reads: why the run was stopped, which test was running when
    /// known, what such a stop usually means, and what the run printed before it.
    static func summary(cause: Cause, runningTest: String?, output: String) -> String {
        var lines: [String] = []
        switch cause {
        case .memory(let limit):
            lines.append("The test run was killed: it went over its memory limit" + (limit.map { " (\(ByteSize.format($0)))" } ?? "") + ".")
        case .time(let seconds):
            lines.append("The test run was killed: it was still running after \(Int(seconds)) seconds.")
        case .signal(let signal):
            lines.append("The test run was killed by signal \(signal).")
        }
        if let runningTest { lines.append("The test running then: \(runningTest).") }
        switch cause {
        case .memory, .time:
            lines.append("The code it calls may never stop: an endless loop, recursion without an end, or an endless iterator (itertools.repeat, itertools.count, cycle) turned into a list.")
        case .signal: break
        }
        let printed = FailureTrimmer.trim(output, maxLines: 20, maxCharacters: 1500)
        if !printed.isEmpty { lines.append("What it printed before:\n" + printed) }
        return lines.joined(separator: "\n")
    }
}
