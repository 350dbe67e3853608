public import DoerCore

/// What `ActionParser.parse(_:)` found in a reply.
public struct ActionParseResult: Sendable, Hashable {
    /// The actions, in the order the reply wrote them.
    public var actions: [Action]
    /// The text outside fenced blocks, blank lines at both ends removed.
    public var prose: String
    /// What looked meant as an action but could not be one, in reply order.
    public var problems: [ActionParseProblem]
    /// What the reply asks to see (`read`, `search`, `definitions` blocks), in reply order.
    public var queries: [WorkspaceQuery]

    public init(actions: [Action] = [], prose: String = "", problems: [ActionParseProblem] = [], queries: [WorkspaceQuery] = []) {
        self.actions = actions
        self.prose = prose
        self.problems = problems
        self.queries = queries
    }
}

/// Something in a reply that could not become an action, worded so that it can be sent
/// back to the model as is: `line 12: edit block for app.py has a SEARCH section without =======`.
public struct ActionParseProblem: Sendable, Hashable, Codable, CustomStringConvertible {
    /// 1-based line of the reply (LF, CRLF and CR all end a line).
    public var line: Int
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "line \(line): \(message)" }
}
