/// One message of a conversation with a model.
public struct ChatMessage: Sendable, Hashable, Codable {
    public enum Role: String, Sendable, Codable { case system, user, assistant, tool }

    public var role: Role
    public var content: String
    /// Tool calls the assistant made in this message (native tool calling).
    public var toolCalls: [ToolCall]
    /// For `.tool` messages: the call this message answers.
    public var toolCallID: String?

    public init(role: Role, content: String, toolCalls: [ToolCall] = [], toolCallID: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
    }

    public static func system(_ text: String) -> ChatMessage { ChatMessage(role: .system, content: text) }
    public static func user(_ text: String) -> ChatMessage { ChatMessage(role: .user, content: text) }
    public static func assistant(_ text: String) -> ChatMessage { ChatMessage(role: .assistant, content: text) }
}

/// A function the model called, with its arguments as the JSON text the model wrote.
public struct ToolCall: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var arguments: String

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

/// A tool offered to the model: a name, what it does, and a JSON Schema for its arguments.
public struct ToolDefinition: Sendable, Hashable, Codable {
    public var name: String
    public var description: String
    /// The JSON Schema of the arguments object, as JSON text.
    public var parametersSchema: String

    public init(name: String, description: String, parametersSchema: String) {
        self.name = name
        self.description = description
        self.parametersSchema = parametersSchema
    }
}
