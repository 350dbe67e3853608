import DoerCore
import Foundation

/// Shows a session's events: for people on the terminal, or as JSON lines for programs.
///
/// @unchecked Sendable: one run's events reach it in order from a single consuming task.
final class EventPrinter: @unchecked Sendable {
    let json: Bool
    private let style = TerminalStyle()
    /// Candidates whose running command's output was shown live (not shown again at its end).
    private var live: Set<Int> = []

    init(json: Bool) {
        self.json = json
    }

    func show(_ event: SessionEvent) {
        if json {
            FileHandle.standardOutput.write(Self.jsonLine(event))
            return
        }
        let text: String? = switch event {
        case .agent(let event):
            describe(event)
        case .undone(let paths):
            "undone: " + paths.joined(separator: ", ")
        case .deploy(let progress):
            bold("deploy") + " \(progress.state.rawValue)" + (progress.branch.map { " \($0)" } ?? "")
                + (progress.pullRequest.map { " \($0.url)" } ?? "") + (progress.ci.map { " CI \($0.status)" + ($0.conclusion.map { " (\($0))" } ?? "") } ?? "")
                + (progress.error.map { ": \(ShownText.output($0))" } ?? "")
        }
        if let text { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }
    }

    private func describe(_ event: AgentEvent) -> String? {
        switch event {
        case .started(let task, let workspace, let candidates):
            bold("doer") + " \(ShownText.output(task))\n" + dim("workspace \(ShownText.escape(workspace)), \(candidates) candidate(s)")
        case .plan(let plan):
            bold("plan") + "\n" + plan.steps.map { "  [ ] \(ShownText.escape($0))" }.joined(separator: "\n")
        case .messageDelta:
            nil
        case .action(let candidate, let action):
            dim("#\(candidate) ") + Self.describe(action)
        case .executionStarted(let candidate, let command):
            dim("#\(candidate) $ \(ShownText.output(command))")
        case .executionOutput(let candidate, _, let text):
            showLive(candidate, text)
        case .executionFinished(let candidate, _, let code, let ms, let output):
            finished(candidate, code: code, ms: ms, output: output)
        case .testReport(let candidate, let iteration, let report):
            (report.succeeded ? green("✓") : red("✗")) + " #\(candidate) iteration \(iteration): \(report.passed) passed, \(report.failed) failed"
        case .candidateStatus(let candidate, let status):
            switch status {
            case .cancelled: dim("#\(candidate) cancelled (another candidate won)")
            case .failed(let reason): red("#\(candidate) gave up: \(ShownText.output(reason))")
            default: nil
            }
        case .evidence(let evidence):
            (evidence.verified ? green("evidence") : red("unverified")) + ": \(ShownText.output(evidence.summary))"
        case .approvalRequested(let request):
            bold("diff") + "\n" + style.diff(request.diff)
        case .approvalAnswered(_, let approved, let by):
            approved ? "approved by \(by)" : "not approved"
        case .undoPoint:
            nil
        case .changesApplied(let files):
            green("applied ") + files.map { "\($0.kind.rawValue) \(ShownText.escape($0.path))" }.joined(separator: ", ")
        case .done(let summary):
            (summary.outcome == .passed ? green("done") : red(summary.outcome.rawValue)) + ": \(ShownText.output(summary.message))"
                + dim(String(format: " (%.1f s, %d tokens)", summary.durationMs / 1000, summary.usage.totalTokens))
                + (summary.applied || summary.diff.isEmpty || ![.passed, .unverified].contains(summary.outcome) ? "" : "\n" + style.diff(summary.diff))
        }
    }

    private func finished(_ candidate: Int, code: Int32, ms: Double, output: String) -> String {
        let shownLive = live.remove(candidate) != nil
        return dim("#\(candidate) exit \(code) in \(Int(ms)) ms") + (code == 0 || output.isEmpty || shownLive ? "" : "\n" + indent(ShownText.output(output)))
    }

    /// Live output, indented under its command; returns nil as it writes the text itself
    /// (it need not end with a newline).
    private func showLive(_ candidate: Int, _ text: String) -> String? {
        live.insert(candidate)
        let shown = ShownText.output(text).split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "    " + $0 }.joined(separator: "\n")
        FileHandle.standardOutput.write(Data(dim(shown).utf8))
        return nil
    }

    static func describe(_ action: Action) -> String {
        switch action {
        case .writeFile(let path, let content): "write \(ShownText.escape(path)) (\(content.split(separator: "\n", omittingEmptySubsequences: false).count) lines)"
        case .editFile(let path, _, _): "edit \(ShownText.escape(path))"
        case .runCommand(let command): "run \(ShownText.output(command))"
        }
    }

    /// One JSON object per line: `{"type": "plan", ...}` with the event's fields.
    static func jsonLine(_ event: SessionEvent) -> Data {
        guard let data = try? JSONEncoder().encode(event),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let (type, value) = object.first else { return Data() }
        var flat: [String: Any] = ["type": type]
        if let fields = value as? [String: Any] {
            for (key, field) in fields {
                if key == "_0", let inner = field as? [String: Any] {
                    flat.merge(inner) { old, _ in old }
                } else {
                    flat[key.hasPrefix("_") ? "value" : key] = field
                }
            }
        }
        let line = (try? JSONSerialization.data(withJSONObject: flat, options: [.sortedKeys])) ?? Data()
        return line + Data("\n".utf8)
    }

    private func bold(_ s: String) -> String { style.bold(s) }
    private func dim(_ s: String) -> String { style.dim(s) }
    private func green(_ s: String) -> String { style.green(s) }
    private func red(_ s: String) -> String { style.red(s) }
    private func indent(_ s: String) -> String { s.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") }
}
