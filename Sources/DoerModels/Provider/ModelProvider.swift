public import DoerCore

/// A source of model completions, streamed.
///
/// ```swift
/// let provider: any ModelProvider = OpenAIChatProvider(endpoint: endpoint)
/// for try await delta in provider.stream(ModelRequest(messages: [.user("Say hi")])) {
///     if case .text(let piece, _) = delta { print(piece, terminator: "") }
/// }
/// ```
///
/// Cancelling the consuming task stops the request on the wire. Errors are `ModelError`.
public protocol ModelProvider: Sendable {
    /// A short name for messages and the audit trail ("openai", "anthropic", "local").
    var name: String { get }
    /// Tokens a prompt and its reply may hold together, when the provider knows (the local
    /// server's slot size); nil when it does not. Prompts are cut to fit it.
    var contextWindow: Int? { get }
    func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelDelta, any Error>
}

extension ModelProvider {
    public var contextWindow: Int? { nil }
}

/// A whole response, gathered from a stream.
public struct ModelResponse: Sendable, Hashable {
    public var text: String
    public var toolCalls: [ToolCall]
    public var usage: TokenUsage
    public var finishReason: FinishReason?

    public init(text: String = "", toolCalls: [ToolCall] = [], usage: TokenUsage = TokenUsage(), finishReason: FinishReason? = nil) {
        self.text = text
        self.toolCalls = toolCalls
        self.usage = usage
        self.finishReason = finishReason
    }
}

/// Gathers streamed deltas of choice 0 into a whole response: text, tool calls
/// reassembled from their fragments, usage, finish reason.
public struct ModelResponseBuilder: Sendable {
    private var partial = ModelResponse()
    private var calls: [Int: ToolCall] = [:]

    public init() {}

    public mutating func add(_ delta: ModelDelta) {
        switch delta {
        case .text(let piece, let choice) where choice == 0:
            partial.text += piece
        case .toolCall(let index, let id, let name, let fragment, let choice) where choice == 0:
            var call = calls[index] ?? ToolCall(id: "", name: "", arguments: "")
            if let id { call.id = id }
            if let name { call.name += name }
            call.arguments += fragment
            calls[index] = call
        case .usage(let usage):
            partial.usage = partial.usage + usage
        case .finished(let reason, let choice) where choice == 0:
            partial.finishReason = reason
        default:
            break
        }
    }

    public var response: ModelResponse {
        var response = partial
        response.toolCalls = calls.sorted { $0.key < $1.key }.map(\.value)
        return response
    }
}

extension ModelProvider {
    /// Streams the request for choice 0 and returns the whole response.
    public func complete(_ request: ModelRequest) async throws -> ModelResponse {
        var builder = ModelResponseBuilder()
        for try await delta in stream(request) { builder.add(delta) }
        return builder.response
    }
}
