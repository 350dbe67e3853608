public import DoerAgent
public import DoerConfig
public import DoerCore
public import DoerLanguages
public import DoerModels
public import DoerSandbox
public import DoerStore
public import DoerTelemetry
public import Foundation

/// The one hallway: configuration → sandbox + language cache + model + store + audit
/// trail, built once, and the agents made from them. The terminal (`doer exec`, `doer
/// chat`), the server and the MCP server all build their runtime here, so a setting in
/// config.toml reaches the agent, the sandboxes it starts and the tests it runs alike.
///
/// ```swift
/// let runtime = try Runtime(options: RuntimeOptions(provider: .local))
/// let summary = try await SessionRunner(runtime: runtime).run(
///     task: "add slugify", workspace: folder, session: runtime.store.createSession(task: "add slugify", workspace: folder.path),
///     settings: AgentRunSettings(), approvals: approvals) { event in print(event) }
/// ```
public struct Runtime: Sendable {
    public let directories: DataDirectory
    public let configuration: DoerConfiguration
    public let sandboxConfiguration: SandboxConfiguration
    public let sandbox: any Sandbox
    /// Where compiled languages keep their build caches: beside the sandboxes, owned by their uid.
    public let languageCache: LanguageCache
    public let model: any ModelProvider
    public let store: SessionStore
    public let audit: AuditLog
    /// API tokens and session owners (`doer serve`), in the same store as the sessions.
    public let access: AccessStore
    /// "SQLite in …" or "PostgreSQL at …".
    public let storeDescription: String
    /// True when the model is a script of canned replies, which cannot call tools.
    public let scripted: Bool
    /// Metrics and traces of the sessions run here (`doer serve` turns them on).
    public var telemetry: Telemetry = .disabled

    public init(options: RuntimeOptions = RuntimeOptions(), directories: DataDirectory = DataDirectory()) throws(DoerError) {
        var environment = options.environment
        if let provider = options.provider { environment["DOER_MODEL_PROVIDER"] = provider.rawValue }
        var configuration = try DoerConfiguration.load(directories: directories, environment: environment, profile: options.profile)
        if let backend = options.backend { configuration.sandboxBackend = backend }
        if configuration.sandboxBackend == .process && !options.allowUnsafeProcessBackend { throw .unsafeBackendRefused }
        let sandboxConfiguration = configuration.sandboxConfiguration(allowUnsafeProcessBackend: options.allowUnsafeProcessBackend)
        let sandbox = try SandboxFactory(configuration: sandboxConfiguration).make()
        let model: any ModelProvider
        if let script = options.scriptedModel {
            model = try ReplayModelProvider(contentsOf: script)
        } else {
            do {
                model = try ModelProviderFactory.make(configuration.model, directories: directories)
            } catch {
                throw .configuration(error.description)
            }
        }
        try self.init(configuration: configuration, sandboxConfiguration: sandboxConfiguration, sandbox: sandbox, model: model,
                      directories: directories, scripted: options.scriptedModel != nil)
    }

    /// A runtime from parts already built (tests give a scripted model or a prepared sandbox).
    /// The language cache still comes from `sandboxConfiguration`, never from elsewhere.
    public init(configuration: DoerConfiguration, sandboxConfiguration: SandboxConfiguration, sandbox: any Sandbox,
                model: any ModelProvider, directories: DataDirectory = DataDirectory(), scripted: Bool = false) throws(DoerError) {
        self.directories = directories
        self.configuration = configuration
        self.sandboxConfiguration = sandboxConfiguration
        self.sandbox = sandbox
        self.languageCache = LanguageCache(configuration: sandboxConfiguration)
        self.model = model
        self.scripted = scripted
        let stores = try Self.openStores(configuration, directories: directories)
        store = stores.sessions
        audit = stores.audit
        access = stores.access
        storeDescription = stores.description
    }

    /// The one place the store is chosen: `[store] url` / `DOER_STORE_URL` (PostgreSQL), or
    /// SQLite under the data directory. Commands that need no sandbox or model (`doer
    /// sessions`, `doer token`, `doer audit`) open it here too.
    public static func openStores(_ configuration: DoerConfiguration,
                                  directories: DataDirectory = DataDirectory()) throws(DoerError) -> Stores {
        try Stores.open(configuration.store, directories: directories, auditKey: try configuration.audit.resolvedKey())
    }

    /// The configured audit trail alone (`Stores.openAudit`).
    public static func openAudit(_ configuration: DoerConfiguration,
                                 directories: DataDirectory = DataDirectory()) throws(DoerError) -> AuditLog {
        try Stores.openAudit(configuration.store, directories: directories, auditKey: try configuration.audit.resolvedKey())
    }

    /// The agent's settings for one run: the configuration's limits, temperature and staging
    /// folder, this runtime's language cache, and what the run asked for.
    public func agentConfiguration(_ run: AgentRunSettings) -> AgentConfiguration {
        AgentConfiguration(
            maxIterations: run.maxIterations, candidates: run.candidates, tokenBudget: run.tokenBudget,
            baseTemperature: configuration.model.temperature ?? 0.2, limits: configuration.limits, approval: run.approval,
            stagingRoot: sandboxConfiguration.stagingRoot.appendingPathComponent("agent", isDirectory: true),
            // Hosted providers call tools reliably; the small local model (and a script) do
            // better with text blocks.
            nativeTools: !scripted && configuration.model.provider != .local, planning: run.planning,
            languageCache: languageCache, network: run.network)
    }

    public func agent(_ run: AgentRunSettings, approvals: any ApprovalHandler) throws(DoerError) -> Agent {
        let configuration = agentConfiguration(run)
        try configuration.validate()
        return Agent(provider: telemetry.instrument(model), sandbox: telemetry.instrument(sandbox),
                     configuration: configuration, approvals: approvals)
    }

    /// A recorder of this runtime's audit trail; `actor` defaults to the configured user.
    public func recorder(actor: String? = nil, session: String?, workspace: URL? = nil) -> AuditRecorder {
        AuditRecorder(log: audit, actor: actor ?? configuration.audit.actor(), session: session, workspace: workspace)
    }

    public var modelDescription: String {
        if scripted { return "scripted (\(model.name))" }
        let settings = configuration.model
        return settings.provider == .local ? "local Qwen2.5-Coder \(settings.localSize)" : "\(settings.provider.rawValue): \(settings.model ?? model.name)"
    }

    /// Candidates work on copies of the workspace and their changes are applied back: a
    /// workspace holding Doer's own data (its database, the model) would be copied whole
    /// and could have that data overwritten. Refused with what to do instead.
    public func checkWorkspace(_ workspace: URL) throws(DoerError) {
        let root = workspace.standardizedFileURL.resolvingSymlinksInPath().path
        for folder in [directories.data, directories.config, directories.cache] {
            let path = folder.standardizedFileURL.resolvingSymlinksInPath().path
            if path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/") {
                throw .invalidArgument("the workspace \(workspace.path) holds Doer's own data folder \(path); "
                    + "run Doer on a project folder, or set DOER_HOME to a folder outside it")
            }
        }
    }
}
