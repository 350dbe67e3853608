public import DoerCore

/// The registry of model providers: the one place that maps settings to a provider.
public enum ModelProviderFactory {
    public static let defaultOpenAIBaseURL = "https://api.openai.com/v1"
    public static let defaultAnthropicBaseURL = "https://api.anthropic.com"
    public static let defaultAnthropicModel = "claude-sonnet-4-5"

    public static func make(_ settings: ModelSettings, directories: DataDirectory = DataDirectory()) throws(ModelError) -> any ModelProvider {
        switch settings.provider {
        case .local:
            return LocalModelProvider(settings: settings, locations: LocalModelLocations(directories: directories))
        case .openai:
            guard let model = settings.model else {
                throw .configuration("name the model for the OpenAI-compatible endpoint: `name = \"…\"` under [model], or DOER_MODEL")
            }
            return OpenAIChatProvider(baseURL: settings.baseURL ?? defaultOpenAIBaseURL, apiKey: settings.apiKey, model: model,
                                      idleTimeoutSeconds: settings.requestTimeoutSeconds, maxRetries: settings.maxRetries)
        case .anthropic:
            guard let key = settings.apiKey, !key.isEmpty else {
                throw .configuration("set ANTHROPIC_API_KEY (or api_key under [model]) to use Anthropic")
            }
            return AnthropicProvider(baseURL: settings.baseURL ?? defaultAnthropicBaseURL, apiKey: key,
                                     model: settings.model ?? defaultAnthropicModel, defaultMaxTokens: settings.maxTokens ?? 4096,
                                     idleTimeoutSeconds: settings.requestTimeoutSeconds, maxRetries: settings.maxRetries)
        }
    }
}
