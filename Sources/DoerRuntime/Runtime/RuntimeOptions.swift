public import DoerCore
public import DoerModels
public import Foundation

/// How a frontend wants its runtime built, where that differs from the configuration.
public struct RuntimeOptions: Sendable {
    /// A provider chosen on the command line; read before the environment, so that that
    /// provider's own variables (OPENAI_BASE_URL, ANTHROPIC_API_KEY…) apply.
    public var provider: ModelSettings.ProviderKind?
    /// A `[profiles.NAME]` table of config.toml to apply (or DOER_PROFILE).
    public var profile: String?
    /// Replay this JSON file of canned model replies instead of a real model (tests, demos).
    public var scriptedModel: URL?
    public var backend: SandboxBackendKind?
    public var allowUnsafeProcessBackend: Bool
    public var environment: [String: String]

    public init(provider: ModelSettings.ProviderKind? = nil, profile: String? = nil, scriptedModel: URL? = nil,
                backend: SandboxBackendKind? = nil, allowUnsafeProcessBackend: Bool = false,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.provider = provider
        self.profile = profile
        self.scriptedModel = scriptedModel
        self.backend = backend
        self.allowUnsafeProcessBackend = allowUnsafeProcessBackend
        self.environment = environment
    }

    /// `DOER_SCRIPTED_MODEL` when no file was given (empty means none).
    public static func scriptedModel(_ given: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        (given ?? environment["DOER_SCRIPTED_MODEL"].flatMap { $0.isEmpty ? nil : $0 }).map { URL(fileURLWithPath: $0) }
    }
}
