import Foundation

/// One line typed at the chat prompt: a message for the agent or a slash command.
enum ChatInput: Equatable {
    case message(String)
    case help
    case plan
    case diff
    case undo
    case candidates(Int?)
    case model(String?)
    case sessions
    case quit
    case nothing
    case invalid(String)

    static let helpText = """
        Type what you want changed; Doer plans it, writes it, tests it in the sandbox and
        asks before applying. Commands:
          /plan            the current plan as a checklist
          /diff            the last run's changes
          /undo            put back what the last applied run changed
          /candidates N    race N candidates per message (1-16); without N, show the number
          /model [NAME]    show the model, or switch provider: local, openai, anthropic
          /sessions        this chat's sessions and how they ended
          /help            this text
          /quit            leave (also Ctrl-D); Ctrl-C stops a running task
        """

    static func parse(_ line: String) -> ChatInput {
        let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("/") else { return text.isEmpty ? .nothing : .message(text) }
        let words = text.dropFirst().split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let argument = words.dropFirst().first
        switch words.first?.lowercased() ?? "" {
        case "help", "?": return .help
        case "plan": return .plan
        case "diff": return .diff
        case "undo": return .undo
        case "sessions": return .sessions
        case "quit", "exit", "q": return .quit
        case "model": return .model(argument)
        case "candidates":
            guard let argument else { return .candidates(nil) }
            guard let count = Int(argument), (1...16).contains(count) else {
                return .invalid("/candidates takes a number from 1 to 16, got '\(argument)'")
            }
            return .candidates(count)
        default:
            return .invalid("unknown command \(text.split(separator: " ").first ?? ""); /help lists the commands")
        }
    }
}
