import DoerAgent
import DoerConfig
import DoerCore
import DoerLanguages
import DoerModels
import DoerSandbox
import DoerStore
import Foundation

/// The settings an agent run takes from the command line.
struct AgentRunSettings: Sendable {
    var candidates: Int
    var maxIterations: Int
    var approval: ApprovalPolicy
    var provider: ModelSettings.ProviderKind?
    var profile: String?
    var tokenBudget: Int?
    var planning: PlanningMode = .auto
    /// What the candidates' commands may reach, asked for under the approval policy.
    var network: NetworkAccess = .none
    var allowedHosts: [String] = []
}

/// What every agent frontend of the command line builds once: the configuration, the
/// sandbox, the model, the session store. `doer exec`, `doer resume` and `doer chat` differ
/// only in how they show the events.
struct AgentRuntime: Sendable {
    var settings: AgentRunSettings
    let configuration: DoerConfiguration
    let sandboxConfiguration: SandboxConfiguration
    let sandbox: any Sandbox
    private(set) var model: any ModelProvider
    let store: SessionStore
    let network: NetworkPolicy
    let directories: DataDirectory

    init(settings: AgentRunSettings, directories: DataDirectory = DataDirectory()) throws(DoerError) {
        self.settings = settings
        self.directories = directories
        // The flag chooses the provider before the environment is read, so that that
        // provider's own variables (OPENAI_BASE_URL, ANTHROPIC_API_KEY…) apply.
        var environment = ProcessInfo.processInfo.environment
        if let provider = settings.provider { environment["DOER_MODEL_PROVIDER"] = provider.rawValue }
        configuration = try DoerConfiguration.load(directories: directories, environment: environment, profile: settings.profile)
        sandboxConfiguration = SandboxConfiguration(
            backend: configuration.sandboxBackend, unprivilegedUID: configuration.unprivilegedUID,
            unprivilegedGID: configuration.unprivilegedGID,
            stagingRoot: configuration.stagingDirectory.map { URL(fileURLWithPath: $0, isDirectory: true) },
            warmPoolSize: configuration.warmPoolSize)
        sandbox = try SandboxFactory(configuration: sandboxConfiguration).make()
        do {
            model = try ModelProviderFactory.make(configuration.model, directories: directories)
        } catch {
            throw .configuration(error.description)
        }
        store = try SessionStore(path: directories.sessionDatabase)
        network = try NetworkOptions.policy(settings.network, allowedHosts: settings.allowedHosts, configuration: configuration)
        try agentConfiguration.validate()
    }

    var agentConfiguration: AgentConfiguration {
        AgentConfiguration(
            maxIterations: settings.maxIterations, candidates: settings.candidates, tokenBudget: settings.tokenBudget,
            baseTemperature: configuration.model.temperature ?? 0.2, limits: configuration.limits, approval: settings.approval,
            // Hosted providers call tools reliably; the small local model does better with text blocks.
            nativeTools: configuration.model.provider != .local, planning: settings.planning,
            languageCache: LanguageCache(configuration: sandboxConfiguration), network: network)
    }

    var modelDescription: String {
        let settings = configuration.model
        return settings.provider == .local ? "local Qwen2.5-Coder \(settings.localSize)" : "\(settings.provider.rawValue): \(settings.model ?? model.name)"
    }

    /// Candidates work on copies of the workspace and their changes are applied back: a
    /// workspace holding Doer's own data (its database, the model) would be copied whole
    /// and could have that data overwritten. Refused with what to do instead.
    func checkWorkspace(_ workspace: URL) throws(DoerError) {
        let root = workspace.standardizedFileURL.resolvingSymlinksInPath().path
        for folder in [directories.data, directories.config, directories.cache] {
            let path = folder.standardizedFileURL.resolvingSymlinksInPath().path
            if path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/") {
                throw .invalidArgument("the workspace \(workspace.path) holds Doer's own data folder \(path); "
                    + "run Doer on a project folder, or set DOER_HOME to a folder outside it")
            }
        }
    }

    func agent(approvals: any ApprovalHandler) -> Agent {
        Agent(provider: model, sandbox: sandbox, configuration: agentConfiguration, approvals: approvals)
    }

    /// Runs a task, recording every event in the session before anyone sees it, so a crash
    /// loses nothing that was shown. Returns the run's summary.
    func run(task: String, workspace: URL, session: SessionRecord, resume: ResumePoint?, approvals: any ApprovalHandler,
             show: @Sendable (AgentEvent) -> Void) async throws(DoerError) -> RunSummary? {
        try checkWorkspace(workspace)
        var summary: RunSummary?
        let audit = try AuditSupport.recorder(configuration, session: session.id, directories: directories)
        for await event in agent(approvals: approvals).run(task: task, workspace: workspace, resumingFrom: resume) {
            try store.append(event, to: session.id)
            try audit.record(event)
            show(event)
            if case .done(let done) = event { summary = done }
        }
        return summary
    }
}
