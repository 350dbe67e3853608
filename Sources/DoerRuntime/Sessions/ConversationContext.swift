public import DoerCore
public import DoerStore

/// What a follow-up message is told about the conversation before it: each earlier
/// request, how it ended and which files it changed. `doer chat` and the server's
/// follow-up messages on a session both build their task here.
public enum ConversationContext {
    public struct Turn: Sendable {
        public var message: String
        public var summary: RunSummary?

        public init(message: String, summary: RunSummary?) {
            self.message = message
            self.summary = summary
        }
    }

    /// The message, with what earlier messages of the conversation did. The earlier part is
    /// indented: the planner reads indented text as quoted context, not as more requests.
    public static func task(for message: String, after earlier: [Turn]) -> String {
        guard !earlier.isEmpty else { return message }
        let lines = earlier.suffix(3).map { turn -> String in
            let request = turn.message.split(separator: "\n").first.map(String.init) ?? ""
            guard let summary = turn.summary else { return "  - \"\(request.prefix(120))\": interrupted" }
            let files = summary.changedFiles.map(\.path).joined(separator: ", ")
            let state = summary.outcome == .passed ? (summary.applied ? "done, applied" : "passed, not applied") : summary.outcome.rawValue
            return "  - \"\(request.prefix(120))\": \(state)" + (files.isEmpty ? "" : "; files: \(files)")
        }
        return message + "\n\nEarlier in this conversation (the workspace files show what was applied):\n" + lines.joined(separator: "\n")
    }

    /// The turns a recorded session holds: each run's request and its summary.
    public static func turns(in history: SessionHistory) -> [Turn] {
        history.runs.map { Turn(message: $0.task, summary: $0.summary) }
    }
}
