/// One request to a model provider.
public struct ModelRequest: Sendable, Hashable {
    public var messages: [ChatMessage]
    public var tools: [ToolDefinition]
    /// The provider's model name; nil uses the provider's configured default.
    public var model: String?
    public var temperature: Double?
    public var seed: Int?
    public var maxTokens: Int?
    public var stop: [String]
    /// Completions to generate for this prompt (providers that support it).
    public var choices: Int

    public init(messages: [ChatMessage], tools: [ToolDefinition] = [], model: String? = nil,
                temperature: Double? = nil, seed: Int? = nil, maxTokens: Int? = nil,
                stop: [String] = [], choices: Int = 1) {
        self.messages = messages
        self.tools = tools
        self.model = model
        self.temperature = temperature
        self.seed = seed
        self.maxTokens = maxTokens
        self.stop = stop
        self.choices = choices
    }
}
