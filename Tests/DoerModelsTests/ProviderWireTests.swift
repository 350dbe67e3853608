import DoerCore
@testable import DoerModels
import DoerTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

enum Wire {
    static func fixture(_ name: String) throws -> String {
        let dir = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return try String(contentsOf: dir.appendingPathComponent("wire/\(name)"), encoding: .utf8)
    }

    static func openAI(_ server: FixtureServer, retries: Int = 2, idle: Double = 5) -> OpenAIChatProvider {
        var provider = OpenAIChatProvider(baseURL: server.baseURL + "/v1", apiKey: "sk-test-123", model: "gpt-4o-mini",
                                          idleTimeoutSeconds: idle, maxRetries: retries)
        provider.transportBackoff = 0.01
        return provider
    }

    static func anthropic(_ server: FixtureServer, retries: Int = 2) -> AnthropicProvider {
        var provider = AnthropicProvider(baseURL: server.baseURL, apiKey: "ak-test", model: "claude-sonnet-4-5", maxRetries: retries)
        provider.transportBackoff = 0.01
        return provider
    }

    static func errorBody(_ json: String, status: HTTPResponseStatus, headers: [(String, String)] = []) -> FixtureServer.Reply {
        FixtureServer.Reply(status: status, headers: [("Content-Type", "application/json")] + headers, chunks: [json])
    }

    /// The error a stream ends with, or nil.
    static func failure(_ provider: some ModelProvider, _ request: ModelRequest = ModelRequest(messages: [.user("hi")])) async -> ModelError? {
        do {
            _ = try await provider.complete(request)
            return nil
        } catch let error as ModelError {
            return error
        } catch {
            Issue.record("not a ModelError: \(error)")
            return nil
        }
    }
}

@Suite("OpenAI-compatible wire format")
struct OpenAIWireTests {
    @Test("a streamed answer split every 7 bytes (inside UTF-8 sequences) comes back whole")
    func textStream() async throws {
        let server = try FixtureServer(replies: [.init(bytes: pieces(try Wire.fixture("openai-text.sse"), size: 7))])
        let response = try await Wire.openAI(server).complete(ModelRequest(messages: [.user("hi")]))
        #expect(response.text == "Hello, wörld ✓")
        #expect(response.finishReason == .stop)
        #expect(response.usage == TokenUsage(promptTokens: 21, completionTokens: 6, cachedPromptTokens: 16))
    }

    @Test("parallel tool calls with arguments split across events are reassembled")
    func toolCalls() async throws {
        let server = try FixtureServer(replies: [.init(bytes: pieces(try Wire.fixture("openai-tools.sse"), size: 13))])
        let response = try await Wire.openAI(server).complete(ModelRequest(messages: [.user("go")]))
        #expect(response.toolCalls == [
            ToolCall(id: "call_A", name: "write_file", arguments: #"{"path": "a.py", "content": "print(1)\n"}"#),
            ToolCall(id: "call_B", name: "run_command", arguments: #"{"command": "python3 a.py"}"#),
        ])
        #expect(response.finishReason == .toolCalls)
        #expect(response.usage.totalTokens == 110)
    }

    @Test("the request carries the model, messages, tools, seed, temperature, n and the key")
    func requestEncoding() async throws {
        let server = try FixtureServer(replies: [.init(chunks: [try Wire.fixture("openai-text.sse")])])
        let tool = ToolDefinition(name: "run_command", description: "Run a command",
                                  parametersSchema: #"{"type":"object","properties":{"command":{"type":"string"}},"required":["command"]}"#)
        let request = ModelRequest(
            messages: [.system("be brief"), .user("hi"),
                       ChatMessage(role: .assistant, content: "", toolCalls: [ToolCall(id: "c1", name: "run_command", arguments: "{}")]),
                       ChatMessage(role: .tool, content: "ok", toolCallID: "c1")],
            tools: [tool], temperature: 0.7, seed: 42, maxTokens: 100, stop: ["END"], choices: 3)
        _ = try await Wire.openAI(server).complete(request)
        let recorded = try #require(server.recorded.first)
        #expect(recorded.uri == "/v1/chat/completions")
        #expect(recorded.header("Authorization") == "Bearer sk-test-123")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(recorded.body.utf8)) as? [String: Any])
        #expect(body["model"] as? String == "gpt-4o-mini")
        #expect(body["stream"] as? Bool == true)
        #expect(body["seed"] as? Int == 42)
        #expect(body["temperature"] as? Double == 0.7)
        #expect(body["n"] as? Int == 3)
        #expect(body["max_tokens"] as? Int == 100)
        #expect(body["stop"] as? [String] == ["END"])
        let messages = try #require(body["messages"] as? [[String: Any]])
        #expect(messages.map { $0["role"] as? String } == ["system", "user", "assistant", "tool"])
        #expect(messages[3]["tool_call_id"] as? String == "c1")
        let tools = try #require(body["tools"] as? [[String: Any]])
        #expect((tools.first?["function"] as? [String: Any])?["name"] as? String == "run_command")
    }

    @Test("several choices stream with their own index")
    func choices() async throws {
        let stream = """
        data: {"choices":[{"index":0,"delta":{"content":"A"}},{"index":1,"delta":{"content":"B"}}]}

        data: {"choices":[{"index":1,"delta":{},"finish_reason":"length"}]}

        data: [DONE]


        """
        let server = try FixtureServer(replies: [.init(chunks: [stream])])
        var deltas: [ModelDelta] = []
        for try await delta in Wire.openAI(server).stream(ModelRequest(messages: [.user("x")], choices: 2)) { deltas.append(delta) }
        #expect(deltas == [.text("A", choice: 0), .text("B", choice: 1), .finished(.length, choice: 1)])
    }

    @Test("a rejected key is an authentication error that says what to check")
    func authentication() async throws {
        let server = try FixtureServer(replies: [Wire.errorBody(#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#, status: .unauthorized)])
        let error = await Wire.failure(Wire.openAI(server))
        #expect(error == .authentication(provider: "openai", detail: "Incorrect API key provided"))
        #expect(error?.description.contains("check the key") == true)
        #expect(server.recorded.count == 1, "authentication errors are not retried")
    }

    @Test("429 and 5xx are retried with backoff, honouring Retry-After, then succeed")
    func retries() async throws {
        let server = try FixtureServer(replies: [
            Wire.errorBody(#"{"error":{"message":"slow down"}}"#, status: .tooManyRequests, headers: [("Retry-After", "0")]),
            Wire.errorBody(#"{"error":{"message":"upstream"}}"#, status: .badGateway),
            .init(chunks: [try Wire.fixture("openai-text.sse")]),
        ])
        let response = try await Wire.openAI(server, retries: 2).complete(ModelRequest(messages: [.user("hi")]))
        #expect(response.text == "Hello, wörld ✓")
        #expect(server.recorded.count == 3)
    }

    @Test("rate limiting past the retry budget is reported with the server's wait")
    func rateLimitExhausted() async throws {
        let limited = Wire.errorBody(#"{"error":{"message":"Rate limit reached"}}"#, status: .tooManyRequests, headers: [("Retry-After", "0")])
        let server = try FixtureServer(replies: [limited, limited])
        let error = await Wire.failure(Wire.openAI(server, retries: 1))
        #expect(error == .rateLimited(provider: "openai", retryAfterSeconds: 0))
        #expect(server.recorded.count == 2)
    }

    @Test("a prompt over the context window is named as such (OpenAI and llama.cpp wordings)", arguments: [
        #"{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}"#,
        #"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error"}}"#,
    ])
    func contextTooLong(body: String) async throws {
        let server = try FixtureServer(replies: [Wire.errorBody(body, status: .badRequest)])
        guard case .contextTooLong = await Wire.failure(Wire.openAI(server)) else {
            Issue.record("expected contextTooLong")
            return
        }
    }

    @Test("nothing listening is a connection-refused error naming the URL")
    func connectionRefused() async throws {
        let provider = OpenAIChatProvider(baseURL: "http://127.0.0.1:9/v1", apiKey: nil, model: "m", maxRetries: 0)
        let error = await Wire.failure(provider)
        #expect(error == .connectionRefused(url: "http://127.0.0.1:9/v1/chat/completions"))
    }

    @Test("a stream that goes silent ends with a timeout")
    func idleTimeout() async throws {
        let first = #"data: {"choices":[{"index":0,"delta":{"content":"partial"}}]}"# + "\n\n"
        let server = try FixtureServer(replies: [.init(chunks: [first], hang: true)])
        let error = await Wire.failure(Wire.openAI(server, retries: 0, idle: 0.5))
        guard case .timedOut = error else {
            Issue.record("expected timedOut, got \(String(describing: error))")
            return
        }
    }

    @Test("cancelling the consumer closes the connection")
    func cancellation() async throws {
        let first = #"data: {"choices":[{"index":0,"delta":{"content":"partial"}}]}"# + "\n\n"
        let server = try FixtureServer(replies: [.init(chunks: [first], hang: true)])
        let provider = Wire.openAI(server, retries: 0, idle: 60)
        let task = Task {
            var got = 0
            for try await _ in provider.stream(ModelRequest(messages: [.user("x")])) { got += 1 }
            return got
        }
        for _ in 0..<200 where server.openConnections == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(server.openConnections == 1)
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        _ = try? await task.value
        for _ in 0..<300 where server.openConnections > 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(server.openConnections == 0, "the request must stop on the wire")
    }

    @Test("a malformed chunk is an invalid-response error, not a crash")
    func malformedChunk() async throws {
        let server = try FixtureServer(replies: [.init(chunks: ["data: {not json\n\n"])])
        guard case .invalidResponse = await Wire.failure(Wire.openAI(server)) else {
            Issue.record("expected invalidResponse")
            return
        }
    }
}

@Suite("Anthropic Messages wire format")
struct AnthropicWireTests {
    @Test("text and a tool call with JSON split across events are reassembled, usage included")
    func toolUse() async throws {
        let server = try FixtureServer(replies: [.init(bytes: pieces(try Wire.fixture("anthropic-tools.sse"), size: 11))])
        let response = try await Wire.anthropic(server).complete(ModelRequest(messages: [.user("go")]))
        #expect(response.text == "Let me write the file.")
        #expect(response.toolCalls == [ToolCall(id: "toolu_01", name: "write_file", arguments: #"{"path": "a.py", "content": "print(1)"}"#)])
        #expect(response.finishReason == .toolCalls)
        #expect(response.usage == TokenUsage(promptTokens: 472, completionTokens: 89, cachedPromptTokens: 400))
    }

    @Test("the request has the system prompt apart, tool results grouped, the key and version headers")
    func requestEncoding() async throws {
        let server = try FixtureServer(replies: [.init(chunks: [try Wire.fixture("anthropic-tools.sse")])])
        let request = ModelRequest(messages: [
            .system("be brief"), .user("hi"),
            ChatMessage(role: .assistant, content: "ok", toolCalls: [ToolCall(id: "t1", name: "a", arguments: #"{"x":1}"#),
                                                                     ToolCall(id: "t2", name: "b", arguments: "{}")]),
            ChatMessage(role: .tool, content: "r1", toolCallID: "t1"), ChatMessage(role: .tool, content: "r2", toolCallID: "t2"),
        ], temperature: 1.7)
        _ = try await Wire.anthropic(server).complete(request)
        let recorded = try #require(server.recorded.first)
        #expect(recorded.uri == "/v1/messages")
        #expect(recorded.header("x-api-key") == "ak-test")
        #expect(recorded.header("anthropic-version") == "2023-06-01")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(recorded.body.utf8)) as? [String: Any])
        #expect(body["system"] as? String == "be brief")
        #expect(body["max_tokens"] as? Int == 4096)
        #expect(body["temperature"] as? Double == 1.0, "Anthropic accepts 0...1")
        let messages = try #require(body["messages"] as? [[String: Any]])
        #expect(messages.map { $0["role"] as? String } == ["user", "assistant", "user"])
        let results = try #require(messages[2]["content"] as? [[String: Any]])
        #expect(results.map { $0["tool_use_id"] as? String } == ["t1", "t2"])
        let uses = try #require(messages[1]["content"] as? [[String: Any]])
        #expect((uses[1]["input"] as? [String: Any])?["x"] as? Int == 1)
    }

    @Test("HTTP errors map to what a person can act on", arguments: [
        (401, #"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#, "rejected the API key"),
        (400, #"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#, "context"),
        (404, #"{"type":"error","error":{"type":"not_found_error","message":"model: claude-nope"}}"#, "404"),
    ])
    func errors(status: Int, body: String, expected: String) async throws {
        let server = try FixtureServer(replies: [Wire.errorBody(body, status: HTTPResponseStatus(statusCode: status))])
        let error = await Wire.failure(Wire.anthropic(server))
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains(expected), "\(text)")
    }

    @Test("an overloaded error inside the stream is reported; a 529 answer is retried")
    func overloaded() async throws {
        let server = try FixtureServer(replies: [
            Wire.errorBody(#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#, status: HTTPResponseStatus(statusCode: 529)),
            .init(chunks: [try Wire.fixture("anthropic-error.sse")]),
        ])
        let error = await Wire.failure(Wire.anthropic(server))
        #expect(error == .server(provider: "anthropic", status: 529, detail: "Overloaded"))
        #expect(server.recorded.count == 2)
    }
}

@Suite("server-sent events")
struct ServerSentEventParserTests {
    func parse(_ chunks: [String]) -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        for chunk in chunks { events += parser.feed(Array(chunk.utf8)) }
        return events + parser.finish()
    }

    @Test("LF, CRLF and CR line endings, comments, named events and multi-line data")
    func lineEndings() {
        #expect(parse(["data: a\n\n", "data: b\r\n\r\n", "data: c\r\r", ": comment\n", "event: x\ndata: 1\ndata: 2\n\n"]) == [
            ServerSentEvent(event: nil, data: "a"), ServerSentEvent(event: nil, data: "b"), ServerSentEvent(event: nil, data: "c"),
            ServerSentEvent(event: "x", data: "1\n2"),
        ])
    }

    @Test("a CRLF split between chunks is one line break")
    func splitCRLF() {
        #expect(parse(["data: a\r", "\n\r", "\ndata: b\n\n"]) == [ServerSentEvent(event: nil, data: "a"), ServerSentEvent(event: nil, data: "b")])
    }

    @Test("a stream ending without the final blank line still delivers its last event")
    func unterminated() {
        #expect(parse(["data: last"]) == [ServerSentEvent(event: nil, data: "last")])
    }
}

@Suite("token accounting")
struct TokenAccountingTests {
    @Test("a metered provider adds up every request's usage per session and provider")
    func meter() async throws {
        let server = try FixtureServer(replies: [.init(chunks: [try Wire.fixture("openai-text.sse")]),
                                                 .init(chunks: [try Wire.fixture("openai-tools.sse")])])
        let meter = TokenMeter()
        let provider = MeteredProvider(Wire.openAI(server), meter: meter)
        _ = try await provider.complete(ModelRequest(messages: [.user("a")]))
        _ = try await provider.complete(ModelRequest(messages: [.user("b")]))
        #expect(await meter.requests == 2)
        #expect(await meter.total == TokenUsage(promptTokens: 101, completionTokens: 36, cachedPromptTokens: 16))
        #expect(await meter.byProvider["openai"]?.totalTokens == 137)
    }
}

@Suite("tool schemas")
struct ToolSchemaTests {
    @Test("a tool whose schema is not JSON fails before anything is sent, for both providers")
    func invalidSchema() async throws {
        let server = try FixtureServer(replies: [])
        let request = ModelRequest(messages: [.user("x")],
                                   tools: [ToolDefinition(name: "broken", description: "d", parametersSchema: "{not json")])
        let expected = ModelError.configuration("the schema of tool broken is not valid JSON")
        #expect(await Wire.failure(Wire.openAI(server), request) == expected)
        #expect(await Wire.failure(Wire.anthropic(server), request) == expected)
        #expect(server.recorded.isEmpty)
    }
}
