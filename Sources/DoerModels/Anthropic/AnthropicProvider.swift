public import DoerCore
import Foundation
import NIOHTTP1

/// Anthropic's Messages API with streaming and tool use.
public struct AnthropicProvider: ModelProvider {
    public let name = "anthropic"
    public let baseURL: String
    public let apiKey: String
    public let defaultModel: String
    /// Messages requires a limit; used when the request has none.
    public let defaultMaxTokens: Int
    var transport: ModelTransport

    /// The first retry's wait; tests shorten it.
    var transportBackoff: Double {
        get { transport.initialBackoffSeconds }
        set { transport.initialBackoffSeconds = newValue }
    }

    public static let apiVersion = "2023-06-01"

    public init(baseURL: String = "https://api.anthropic.com", apiKey: String, model: String,
                defaultMaxTokens: Int = 4096, idleTimeoutSeconds: Double = 120, maxRetries: Int = 3) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.defaultModel = model
        self.defaultMaxTokens = defaultMaxTokens
        self.transport = ModelTransport(provider: "anthropic", idleTimeoutSeconds: idleTimeoutSeconds, maxRetries: maxRetries)
    }

    public func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelDelta, any Error> {
        let body: Data
        do {
            body = try Self.encode(request, defaultModel: defaultModel, defaultMaxTokens: defaultMaxTokens)
        } catch {
            return AsyncThrowingStream { $0.finish(throwing: error) }
        }
        let events = transport.events(
            ModelTransport.Request(url: baseURL + "/v1/messages",
                                   headers: [("x-api-key", apiKey), ("anthropic-version", Self.apiVersion)], body: body),
            mapError: { status, headers, body in Self.mapError(status: status, headers: headers, body: body) })
        return AsyncThrowingStream { continuation in
            let task = Task {
                var decoder = StreamDecoder()
                do {
                    for try await event in events {
                        let deltas = try decoder.decode(event)
                        for delta in deltas { continuation.yield(delta) }
                        if decoder.stopped { break }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    // MARK: - Wire format

    static func encode(_ request: ModelRequest, defaultModel: String, defaultMaxTokens: Int) throws -> Data {
        let system = request.messages.filter { $0.role == .system }.map(\.content).joined(separator: "\n\n")
        var messages: [[String: Any]] = []
        for message in request.messages where message.role != .system {
            switch message.role {
            case .tool:
                let block: [String: Any] = ["type": "tool_result", "tool_use_id": message.toolCallID ?? "", "content": message.content]
                // Consecutive tool results travel in one user message.
                if var last = messages.last, last["role"] as? String == "user",
                   var blocks = last["content"] as? [[String: Any]], blocks.allSatisfy({ $0["type"] as? String == "tool_result" }) {
                    blocks.append(block)
                    last["content"] = blocks
                    messages[messages.count - 1] = last
                } else {
                    messages.append(["role": "user", "content": [block]])
                }
            case .assistant:
                var blocks: [[String: Any]] = []
                if !message.content.isEmpty { blocks.append(["type": "text", "text": message.content]) }
                for call in message.toolCalls {
                    let input = (try? JSONSerialization.jsonObject(with: Data(call.arguments.utf8))) ?? [String: Any]()
                    blocks.append(["type": "tool_use", "id": call.id, "name": call.name, "input": input])
                }
                messages.append(["role": "assistant", "content": blocks])
            default:
                messages.append(["role": "user", "content": [["type": "text", "text": message.content]]])
            }
        }
        var body: [String: Any] = [
            "model": request.model ?? defaultModel,
            "max_tokens": request.maxTokens ?? defaultMaxTokens,
            "stream": true,
            "messages": messages,
        ]
        if !system.isEmpty { body["system"] = system }
        if let temperature = request.temperature { body["temperature"] = min(max(temperature, 0), 1) }
        if !request.stop.isEmpty { body["stop_sequences"] = request.stop }
        if !request.tools.isEmpty {
            body["tools"] = try request.tools.map { tool -> [String: Any] in
                ["name": tool.name, "description": tool.description, "input_schema": try tool.schemaObject()]
            }
        }
        return try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
    }

    /// Turns Messages stream events into deltas; tool_use blocks become tool calls
    /// numbered in the order they start.
    struct StreamDecoder {
        private var toolIndexByBlock: [Int: Int] = [:]
        private var inputTokens = 0
        private var cachedTokens: Int?
        private(set) var stopped = false

        private struct Event: Decodable {
            struct Message: Decodable {
                struct Usage: Decodable {
                    var input_tokens: Int?
                    var output_tokens: Int?
                    var cache_read_input_tokens: Int?
                }
                var usage: Usage?
            }
            struct Block: Decodable {
                var type: String
                var id: String?
                var name: String?
            }
            struct Delta: Decodable {
                var type: String?
                var text: String?
                var partial_json: String?
                var stop_reason: String?
            }
            struct Failure: Decodable {
                var type: String?
                var message: String?
            }
            var type: String
            var index: Int?
            var message: Message?
            var content_block: Block?
            var delta: Delta?
            var usage: Message.Usage?
            var error: Failure?
        }

        mutating func decode(_ sse: ServerSentEvent) throws -> [ModelDelta] {
            let event: Event
            do {
                event = try JSONDecoder().decode(Event.self, from: Data(sse.data.utf8))
            } catch {
                throw ModelError.invalidResponse(provider: "anthropic", detail: "not a Messages event: \(sse.data.prefix(200))")
            }
            switch event.type {
            case "message_start":
                inputTokens = event.message?.usage?.input_tokens ?? 0
                cachedTokens = event.message?.usage?.cache_read_input_tokens
                return []
            case "content_block_start":
                guard let block = event.content_block, block.type == "tool_use", let index = event.index else { return [] }
                let toolIndex = toolIndexByBlock.count
                toolIndexByBlock[index] = toolIndex
                return [.toolCall(index: toolIndex, id: block.id, name: block.name, argumentsFragment: "")]
            case "content_block_delta":
                guard let delta = event.delta else { return [] }
                if delta.type == "text_delta", let text = delta.text, !text.isEmpty { return [.text(text)] }
                if delta.type == "input_json_delta", let index = event.index, let toolIndex = toolIndexByBlock[index] {
                    return [.toolCall(index: toolIndex, id: nil, name: nil, argumentsFragment: delta.partial_json ?? "")]
                }
                return []
            case "message_delta":
                var deltas: [ModelDelta] = []
                if let output = event.usage?.output_tokens {
                    deltas.append(.usage(TokenUsage(promptTokens: inputTokens, completionTokens: output, cachedPromptTokens: cachedTokens)))
                }
                if let reason = event.delta?.stop_reason {
                    let mapped: FinishReason = switch reason {
                    case "end_turn", "stop_sequence": .stop
                    case "max_tokens": .length
                    case "tool_use": .toolCalls
                    case "refusal": .contentFilter
                    default: .other
                    }
                    deltas.append(.finished(mapped))
                }
                return deltas
            case "message_stop":
                stopped = true
                return []
            case "error":
                let failure = event.error
                if failure?.type == "overloaded_error" {
                    throw ModelError.server(provider: "anthropic", status: 529, detail: failure?.message ?? "overloaded")
                }
                throw ModelError.server(provider: "anthropic", status: 200, detail: failure?.message ?? "error in stream")
            default:
                return []
            }
        }
    }

    static func mapError(status: Int, headers: HTTPHeaders, body: String) -> ModelError {
        struct Envelope: Decodable {
            struct Detail: Decodable {
                var type: String?
                var message: String?
            }
            var error: Detail?
        }
        let detail = (try? JSONDecoder().decode(Envelope.self, from: Data(body.utf8)))?.error
        let message = detail?.message ?? String(body.prefix(300))
        switch status {
        case 401, 403: return .authentication(provider: "anthropic", detail: message)
        case 429: return .rateLimited(provider: "anthropic", retryAfterSeconds: ModelTransport.retryAfter(headers))
        case 400, 413:
            if message.contains("prompt is too long") || message.contains("context") {
                return .contextTooLong(provider: "anthropic", detail: message)
            }
            return .server(provider: "anthropic", status: status, detail: message)
        default: return .server(provider: "anthropic", status: status, detail: message)
        }
    }
}
