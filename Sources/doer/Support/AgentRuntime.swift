import DoerAgent
import DoerConfig
import DoerCore
import DoerModels
import DoerRuntime
import DoerSandbox
import DoerStore
import Foundation

/// The flags an agent command takes (`doer exec`, `doer resume`, `doer chat`).
struct AgentFlags: Sendable {
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

/// The command line's view of the shared `Runtime`: the flags turned into its options and
/// each run's settings. Nothing here builds a sandbox, a model or an agent.
struct AgentRuntime: Sendable {
    var flags: AgentFlags
    let runtime: Runtime
    let network: NetworkPolicy

    init(flags: AgentFlags, directories: DataDirectory = DataDirectory()) throws(DoerError) {
        self.flags = flags
        runtime = try Runtime(options: RuntimeOptions(provider: flags.provider, profile: flags.profile), directories: directories)
        network = try runtime.configuration.networkPolicy(flags.network, adding: flags.allowedHosts)
        _ = try runtime.agent(runSettings, approvals: TerminalApprovals(enabled: false))
    }

    var runSettings: AgentRunSettings {
        AgentRunSettings(candidates: flags.candidates, maxIterations: flags.maxIterations, approval: flags.approval,
                         tokenBudget: flags.tokenBudget, planning: flags.planning, network: network)
    }

    var store: SessionStore { runtime.store }
    var sandbox: any Sandbox { runtime.sandbox }
    var model: any ModelProvider { runtime.model }
    var configuration: DoerConfiguration { runtime.configuration }
    var modelDescription: String { runtime.modelDescription }

    func checkWorkspace(_ workspace: URL) throws(DoerError) { try runtime.checkWorkspace(workspace) }

    /// Runs a task as a recorded session; returns the run's summary.
    func run(task: String, workspace: URL, session: SessionRecord, resume: ResumePoint?, approvals: any ApprovalHandler,
             show: @escaping @Sendable (SessionEvent) -> Void) async throws(DoerError) -> RunSummary? {
        try await SessionRunner(runtime: runtime).run(task: task, workspace: workspace, session: session.id, resume: resume,
                                                      settings: runSettings, approvals: approvals) { show($0) }
    }
}
