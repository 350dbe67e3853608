/// Which model Doer talks to and how; read from `[model]` in config.toml, the
/// environment (`OPENAI_BASE_URL`, `OPENAI_API_KEY`, `ANTHROPIC_API_KEY`) and flags.
public struct ModelSettings: Sendable, Hashable {
    public enum ProviderKind: String, Sendable, Hashable, CaseIterable {
        /// The bundled model served by a llama-server Doer manages.
        case local
        /// Any OpenAI-compatible Chat Completions endpoint (OpenAI, vLLM, Ollama, LM Studio, llama.cpp).
        case openai
        case anthropic
    }

    public var provider: ProviderKind = .local
    /// The provider's model name (e.g. "gpt-4o-mini"); the local server ignores it.
    public var model: String?
    public var baseURL: String?
    public var apiKey: String?
    public var temperature: Double?
    public var maxTokens: Int?
    /// Longest silence while waiting for the next piece of a response.
    public var requestTimeoutSeconds: Double = 120
    /// Attempts after the first on 429 and 5xx answers.
    public var maxRetries: Int = 3

    /// The bundled model's size: "0.5b" (default) or "1.5b".
    public var localSize: String = "0.5b"
    /// Sequences the local server decodes at once (speculative candidates use them).
    public var localParallel: Int = 4
    /// Context window per slot of the local server, in tokens.
    public var localContextPerSlot: Int = 4096
    public var localThreads: Int?

    public init() {}

    /// The settings with the API key replaced by a mask, for `doer config show`.
    public var masked: ModelSettings {
        var copy = self
        copy.apiKey = apiKey.map(Self.mask)
        return copy
    }

    public static func mask(_ secret: String) -> String {
        guard secret.count > 8 else { return "****" }
        return String(secret.prefix(3)) + "…" + String(secret.suffix(2))
    }
}
