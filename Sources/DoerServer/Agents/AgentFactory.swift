public import DoerAgent
public import DoerCore
import DoerConfig
import DoerModels
public import DoerLanguages
public import DoerSandbox
public import Foundation

/// Makes the agent for one run. The server takes one at start, so tests and the browser
/// test can give it a scripted model instead of a real one.
public protocol AgentFactory: Sendable {
    func makeAgent(approvals: any ApprovalHandler) throws(DoerError) -> Agent
}

/// The agent `doer exec` would build: model and sandbox from the configuration.
public struct ConfiguredAgentFactory: AgentFactory {
    public let provider: any ModelProvider
    public let sandbox: any Sandbox
    public var configuration: AgentConfiguration
    /// Where compiled languages keep their build caches, beside the sandboxes.
    public var languageCache: LanguageCache

    public init(provider: any ModelProvider, sandbox: any Sandbox, configuration: AgentConfiguration,
                languageCache: LanguageCache = LanguageCache(configuration: SandboxConfiguration())) {
        self.provider = provider
        self.sandbox = sandbox
        self.configuration = configuration
        self.languageCache = languageCache
    }

    /// Reads config.toml and the environment, as `doer exec` does. With `scriptedModel`, the
    /// model is a `ReplayModelProvider` reading that JSON file (for the browser test and demos).
    public static func fromConfiguration(directories: DataDirectory, scriptedModel: URL?, maxIterations: Int = 6,
                                         candidates: Int = 1) throws(DoerError) -> ConfiguredAgentFactory {
        let configuration = try DoerConfiguration.load(directories: directories)
        let sandboxConfiguration = SandboxConfiguration(
            backend: configuration.sandboxBackend, unprivilegedUID: configuration.unprivilegedUID,
            unprivilegedGID: configuration.unprivilegedGID,
            stagingRoot: configuration.stagingDirectory.map { URL(fileURLWithPath: $0, isDirectory: true) },
            warmPoolSize: configuration.warmPoolSize)
        let sandbox = try SandboxFactory(configuration: sandboxConfiguration).make()
        let model: any ModelProvider
        if let scriptedModel {
            model = try ReplayModelProvider(contentsOf: scriptedModel)
        } else {
            do {
                model = try ModelProviderFactory.make(configuration.model, directories: directories)
            } catch {
                throw .configuration(error.description)
            }
        }
        let agentConfiguration = AgentConfiguration(
            maxIterations: maxIterations, candidates: candidates,
            baseTemperature: configuration.model.temperature ?? 0.2, limits: configuration.limits,
            // Every change the server's agent would apply waits for a person's answer.
            approval: .onRequest,
            nativeTools: scriptedModel == nil && configuration.model.provider != .local)
        try agentConfiguration.validate()
        return ConfiguredAgentFactory(provider: model, sandbox: sandbox, configuration: agentConfiguration,
                                      languageCache: LanguageCache(configuration: sandboxConfiguration))
    }

    /// `never` only when a person chose it when starting the server (`doer mcp --apply`).
    public var approvalPolicy: ApprovalPolicy {
        get { configuration.approval }
        set { configuration.approval = newValue }
    }

    public func makeAgent(approvals: any ApprovalHandler) throws(DoerError) -> Agent {
        Agent(provider: provider, sandbox: sandbox, configuration: configuration, approvals: approvals)
    }
}
