import ArgumentParser
import DoerAgent
import DoerCore
import DoerModels
import DoerStore
import Foundation

struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Carry out a task non-interactively: plan, write, test in the sandbox, repair, show the diff.",
        discussion: "Exits 0 only when the task ended with passing tests."
    )

    @Argument(help: "What to do, in plain language.") var task: String
    @Option(help: "The project folder (default: the current folder).") var workspace: String?
    @Option(help: "Candidates generated at once; the first to pass the tests wins.") var candidates = 1
    @Option(help: "Model turns per candidate.") var maxIterations = 6
    @Option(help: "never: apply without asking; on-request (default): ask, or refuse without a terminal.")
    var approval: ApprovalPolicy = .onRequest
    @Option(help: "Model provider: local (default), openai, anthropic.") var provider: ModelSettings.ProviderKind?
    @Option(help: "Apply a [profiles.NAME] table of config.toml.") var profile: String?
    @Option(help: "Stop when this many tokens were used.") var tokenBudget: Int?
    @Option(help: "Who writes the plan: auto (the model, for larger tasks), model, derived (no model turn).")
    var plan: PlanningMode = .auto
    @Flag(help: "Print the event stream as JSON lines.") var json = false
    @OptionGroup(title: "Network for the candidates' commands (asked for under the approval policy)") var net: NetworkOptions

    func run() async throws {
        let root = URL(fileURLWithPath: workspace ?? FileManager.default.currentDirectoryPath, isDirectory: true).standardizedFileURL
        let settings = AgentFlags(candidates: candidates, maxIterations: maxIterations, approval: approval,
                                        provider: provider, profile: profile, tokenBudget: tokenBudget, planning: plan,
                                        network: net.network, allowedHosts: net.allowedHosts)
        try await runAgent(settings: settings, task: task, workspace: root, resuming: nil, json: json)
    }
}

/// What `doer exec` and `doer resume` share: run the task in a session and exit with its outcome.
func runAgent(settings: AgentFlags, task: String, workspace: URL, resuming session: SessionRecord?, json: Bool) async throws {
    do {
        let runtime = try AgentRuntime(flags: settings)
        try runtime.checkWorkspace(workspace)
        NetworkOptions.announce(runtime.network)
        let record: SessionRecord
        var resume: ResumePoint?
        if let session {
            resume = try SessionHistory(of: session.id, in: runtime.store).resumePoint
            try runtime.store.reopen(session.id)
            record = session
        } else {
            record = try runtime.store.createSession(task: task, workspace: workspace.path)
        }
        if !json { FileHandle.standardError.write(Data("doer: session \(record.id)\n".utf8)) }
        let printer = EventPrinter(json: json)
        let summary = try await runtime.run(task: task, workspace: workspace, session: record, resume: resume,
                                            approvals: TerminalApprovals(enabled: !json), show: printer.show)
        throw ExitCode(summary?.outcome == .passed ? 0 : 1)
    } catch let error as DoerError {
        fail(error)
    }
}

extension ApprovalPolicy: ExpressibleByArgument {}
extension PlanningMode: ExpressibleByArgument {}
extension ModelSettings.ProviderKind: ExpressibleByArgument {}
