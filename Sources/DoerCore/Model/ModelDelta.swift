/// A piece of a streamed model response.
public enum ModelDelta: Sendable, Hashable {
    /// Text for choice `choice` (0 unless several were asked for).
    case text(String, choice: Int = 0)
    /// A fragment of a tool call: the first fragment of a call carries its id and name,
    /// later ones more of its JSON arguments. `index` tells parallel calls apart.
    case toolCall(index: Int, id: String?, name: String?, argumentsFragment: String, choice: Int = 0)
    case usage(TokenUsage)
    case finished(FinishReason, choice: Int = 0)
}

public enum FinishReason: String, Sendable, Hashable, Codable {
    case stop
    case length
    case toolCalls = "tool_calls"
    case contentFilter = "content_filter"
    case other
}

/// Tokens one request used; added up per session.
public struct TokenUsage: Sendable, Hashable, Codable {
    public var promptTokens: Int
    public var completionTokens: Int
    /// Prompt tokens the server took from its cache, when it says.
    public var cachedPromptTokens: Int?

    public init(promptTokens: Int = 0, completionTokens: Int = 0, cachedPromptTokens: Int? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cachedPromptTokens = cachedPromptTokens
    }

    public var totalTokens: Int { promptTokens + completionTokens }

    public static func + (a: TokenUsage, b: TokenUsage) -> TokenUsage {
        let cached: Int? = (a.cachedPromptTokens == nil && b.cachedPromptTokens == nil)
            ? nil : (a.cachedPromptTokens ?? 0) + (b.cachedPromptTokens ?? 0)
        return TokenUsage(promptTokens: a.promptTokens + b.promptTokens,
                          completionTokens: a.completionTokens + b.completionTokens, cachedPromptTokens: cached)
    }
}
