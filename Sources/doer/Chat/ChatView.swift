import DoerCore
import Foundation

/// Shows a run's events as they arrive in the chat: the model's words streaming, the plan
/// ticking off, each sandboxed command with its output, test results, the diff.
///
/// @unchecked Sendable: one run's events reach it in order from a single consuming task,
/// and the chat reads `checklist` only between runs.
final class ChatView: @unchecked Sendable {
    private let style = TerminalStyle()
    private let progress: ProgressIndicator
    private(set) var checklist: PlanChecklist?
    /// Whether the model's text is being streamed onto the current line.
    private var streaming = false
    private var candidates = 1
    /// Candidates whose running command's output was shown live (not shown again at its end).
    private var live: Set<Int> = []

    init(progress: ProgressIndicator) {
        self.progress = progress
    }

    /// A session's undo and deploys are not part of a chat's runs: only agent events show.
    func show(_ event: SessionEvent) {
        if case .agent(let event) = event { show(event) }
    }

    func show(_ event: AgentEvent) {
        if case .messageDelta(let candidate, let text) = event {
            // With several candidates racing, their words would interleave: show statuses only.
            guard candidates == 1, candidate == 0 else { return }
            progress.stop()
            if !streaming { write("\n") }
            streaming = true
            write(style.dim(ShownText.output(text)))
            return
        }
        progress.stop()
        if streaming { write("\n"); streaming = false }
        if var list = checklist {
            for index in list.apply(event) { say(style.green("  ✓ ") + ShownText.escape(list.plan.steps[index])) }
            checklist = list
        }
        switch event {
        case .started(_, _, let count):
            candidates = count
            if count > 1 { say(style.dim("racing \(count) candidates; the first to pass wins")) }
        case .plan(let plan):
            checklist = PlanChecklist(plan)
            say(style.bold("plan"))
            checklist?.lines.forEach { say("  " + ShownText.escape($0)) }
        case .candidateStatus(let candidate, let status):
            switch status {
            case .generating(let iteration):
                progress.start(candidates > 1 ? "candidates writing (iteration \(iteration))" : "writing (iteration \(iteration))")
            case .testing(let iteration):
                progress.start(label(candidate) + "testing (iteration \(iteration))")
            case .passed(let iteration):
                say(style.green("✓ ") + label(candidate) + "passed" + (iteration > 0 ? " on iteration \(iteration)" : " with the restored files"))
            case .failed(let reason):
                say(style.red("✗ ") + label(candidate) + "gave up: \(ShownText.output(reason))")
            case .cancelled:
                if candidates > 1 { say(style.dim(label(candidate) + "cancelled (another candidate won)")) }
            }
        case .action(let candidate, let action):
            say(style.dim(label(candidate)) + EventPrinter.describe(action))
        case .executionStarted(let candidate, let command):
            say(style.dim(label(candidate) + "$ " + ShownText.output(command)))
            live.remove(candidate)
            progress.start("running " + String(command.prefix(40)))
        case .executionOutput(let candidate, _, let text):
            live.insert(candidate)
            write(ShownText.output(text).split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "    " + $0 }.joined(separator: "\n"))
            progress.start("running")
        case .executionFinished(let candidate, _, let code, let ms, let output):
            if !live.contains(candidate) && !output.isEmpty && (code != 0 || output.count < 600) {
                say(ShownText.output(output).split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))
            }
            say(style.dim("    exit \(code) in \(Int(ms)) ms"))
        case .testReport(let candidate, _, let report):
            say((report.succeeded ? style.green("✓ ") : style.red("✗ ")) + label(candidate)
                + "\(report.passed) passed, \(report.failed) failed")
        case .approvalRequested(let request):
            say(style.bold("diff"))
            say(style.diff(request.diff))
        case .approvalAnswered(_, let approved, let by):
            say(approved ? style.green("approved by \(by)") : style.dim("not applied"))
        case .changesApplied(let files):
            say(style.green("applied ") + files.map { "\($0.kind.rawValue) \(ShownText.escape($0.path))" }.joined(separator: ", "))
        case .done(let summary):
            let head = summary.outcome == .passed ? style.green("done") : style.red(summary.outcome.rawValue)
            say(head + ": \(ShownText.output(summary.message))"
                + style.dim(String(format: " (%.1f s, %d tokens)", summary.durationMs / 1000, summary.usage.totalTokens)))
        case .messageDelta, .undoPoint, .evidence:
            break
        }
    }

    private func label(_ candidate: Int) -> String { candidates > 1 ? "#\(candidate) " : "" }

    private func say(_ line: String) { write(line + "\n") }

    private func write(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
}
