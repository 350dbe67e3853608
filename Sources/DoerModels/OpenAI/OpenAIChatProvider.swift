public import DoerCore
import Foundation
import NIOHTTP1

/// OpenAI-compatible Chat Completions with streaming and tool calls: OpenAI itself,
/// vLLM, Ollama, LM Studio and llama.cpp's server.
public struct OpenAIChatProvider: ModelProvider {
    public let name: String
    public let baseURL: String
    public let apiKey: String?
    public let defaultModel: String
    var transport: ModelTransport

    /// The first retry's wait; tests shorten it.
    var transportBackoff: Double {
        get { transport.initialBackoffSeconds }
        set { transport.initialBackoffSeconds = newValue }
    }

    /// `baseURL` ends before `/chat/completions`, e.g. `https://api.openai.com/v1`.
    public init(name: String = "openai", baseURL: String, apiKey: String?, model: String,
                idleTimeoutSeconds: Double = 120, maxRetries: Int = 3) {
        self.name = name
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.defaultModel = model
        self.transport = ModelTransport(provider: name, idleTimeoutSeconds: idleTimeoutSeconds, maxRetries: maxRetries)
    }

    public func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelDelta, any Error> {
        let body: Data
        do {
            body = try Self.encode(request, defaultModel: defaultModel)
        } catch {
            return AsyncThrowingStream { $0.finish(throwing: error) }
        }
        var headers: [(String, String)] = []
        if let apiKey, !apiKey.isEmpty { headers.append(("Authorization", "Bearer \(apiKey)")) }
        let events = transport.events(
            ModelTransport.Request(url: baseURL + "/chat/completions", headers: headers, body: body),
            mapError: { [name] status, headers, body in Self.mapError(provider: name, status: status, headers: headers, body: body) })
        let provider = name
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await event in events {
                        if event.data == "[DONE]" { break }
                        for delta in try Self.decode(event.data, provider: provider) { continuation.yield(delta) }
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

    static func encode(_ request: ModelRequest, defaultModel: String) throws -> Data {
        var body: [String: Any] = [
            "model": request.model ?? defaultModel,
            "stream": true,
            "stream_options": ["include_usage": true],
            "messages": request.messages.map(encodeMessage),
        ]
        if let temperature = request.temperature { body["temperature"] = temperature }
        if let seed = request.seed { body["seed"] = seed }
        if let maxTokens = request.maxTokens { body["max_tokens"] = maxTokens }
        if !request.stop.isEmpty { body["stop"] = request.stop }
        if request.choices > 1 { body["n"] = request.choices }
        if !request.tools.isEmpty {
            body["tools"] = try request.tools.map { tool -> [String: Any] in
                ["type": "function",
                 "function": ["name": tool.name, "description": tool.description, "parameters": try tool.schemaObject()]]
            }
        }
        return try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
    }

    private static func encodeMessage(_ message: ChatMessage) -> [String: Any] {
        var object: [String: Any] = ["role": message.role.rawValue, "content": message.content]
        if !message.toolCalls.isEmpty {
            object["tool_calls"] = message.toolCalls.map {
                ["id": $0.id, "type": "function", "function": ["name": $0.name, "arguments": $0.arguments]]
            }
        }
        if let id = message.toolCallID { object["tool_call_id"] = id }
        return object
    }

    private struct Chunk: Decodable {
        struct Choice: Decodable {
            struct Delta: Decodable {
                struct Call: Decodable {
                    struct Function: Decodable {
                        var name: String?
                        var arguments: String?
                    }
                    var index: Int?
                    var id: String?
                    var function: Function?
                }
                var content: String?
                var tool_calls: [Call]?
            }
            var index: Int?
            var delta: Delta?
            var finish_reason: String?
        }
        struct Usage: Decodable {
            struct Details: Decodable { var cached_tokens: Int? }
            var prompt_tokens: Int?
            var completion_tokens: Int?
            var prompt_tokens_details: Details?
        }
        /// llama.cpp's own figures; `cache_n` is how many prompt tokens came from its cache.
        struct Timings: Decodable { var cache_n: Int? }
        struct ErrorBody: Decodable { var message: String? }
        var choices: [Choice]?
        var usage: Usage?
        var timings: Timings?
        var error: ErrorBody?
    }

    static func decode(_ data: String, provider: String) throws -> [ModelDelta] {
        let chunk: Chunk
        do {
            chunk = try JSONDecoder().decode(Chunk.self, from: Data(data.utf8))
        } catch {
            throw ModelError.invalidResponse(provider: provider, detail: "not a chat completion chunk: \(data.prefix(200))")
        }
        if let error = chunk.error {
            throw ModelError.server(provider: provider, status: 200, detail: error.message ?? "error in stream")
        }
        var deltas: [ModelDelta] = []
        for choice in chunk.choices ?? [] {
            let index = choice.index ?? 0
            if let content = choice.delta?.content, !content.isEmpty { deltas.append(.text(content, choice: index)) }
            for (position, call) in (choice.delta?.tool_calls ?? []).enumerated() {
                deltas.append(.toolCall(index: call.index ?? position, id: call.id, name: call.function?.name,
                                        argumentsFragment: call.function?.arguments ?? "", choice: index))
            }
            if let reason = choice.finish_reason {
                deltas.append(.finished(FinishReason(rawValue: reason) ?? (reason == "function_call" ? .toolCalls : .other), choice: index))
            }
        }
        if let usage = chunk.usage {
            deltas.append(.usage(TokenUsage(
                promptTokens: usage.prompt_tokens ?? 0, completionTokens: usage.completion_tokens ?? 0,
                cachedPromptTokens: usage.prompt_tokens_details?.cached_tokens ?? chunk.timings?.cache_n)))
        }
        return deltas
    }

    static func mapError(provider: String, status: Int, headers: HTTPHeaders, body: String) -> ModelError {
        struct Envelope: Decodable {
            struct Detail: Decodable {
                var message: String?
                var type: String?
                var code: String?
                init(from decoder: any Decoder) throws {
                    let c = try decoder.container(keyedBy: CodingKeys.self)
                    message = try? c.decode(String.self, forKey: .message)
                    type = try? c.decode(String.self, forKey: .type)
                    code = (try? c.decode(String.self, forKey: .code)) ?? (try? c.decode(Int.self, forKey: .code)).map(String.init)
                }
                enum CodingKeys: String, CodingKey { case message, type, code }
            }
            var error: Detail?
        }
        let detail = (try? JSONDecoder().decode(Envelope.self, from: Data(body.utf8)))?.error
        let message = detail?.message ?? String(body.prefix(300))
        let kind = [detail?.type, detail?.code].compactMap { $0 }.joined(separator: " ")
        switch status {
        case 401, 403:
            return .authentication(provider: provider, detail: message)
        case 429:
            return .rateLimited(provider: provider, retryAfterSeconds: ModelTransport.retryAfter(headers))
        case 400, 413:
            if kind.contains("context_length") || kind.contains("exceed_context") || message.contains("context length")
                || message.contains("context size") || message.contains("maximum context") {
                return .contextTooLong(provider: provider, detail: message)
            }
            return .server(provider: provider, status: status, detail: message)
        default:
            return .server(provider: provider, status: status, detail: message)
        }
    }
}
