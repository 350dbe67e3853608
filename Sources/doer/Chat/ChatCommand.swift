import ArgumentParser
import DoerAgent
import DoerCore
import DoerModels
import Foundation

struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Talk to Doer: each message is a change it plans, writes, tests in the sandbox and applies with your approval.",
        discussion: "Streams the model's words, the plan as a checklist, every sandboxed command and its output, and the diff. /help lists the commands."
    )

    @Option(help: "The project folder (default: the current folder).") var workspace: String?
    @Option(help: "Candidates generated at once per message; /candidates changes it.") var candidates = 1
    @Option(help: "Model turns per candidate.") var maxIterations = 6
    @Option(help: "never: apply without asking; on-request (default): ask before applying.")
    var approval: ApprovalPolicy = .onRequest
    @Option(help: "Model provider: local (default), openai, anthropic.") var provider: ModelSettings.ProviderKind?
    @Option(help: "Apply a [profiles.NAME] table of config.toml.") var profile: String?
    @Option(help: "Who writes the plan: auto, model, derived.") var plan: PlanningMode = .auto
    @OptionGroup(title: "Network for the candidates' commands (asked for under the approval policy)") var net: NetworkOptions

    func run() async throws {
        let root = URL(fileURLWithPath: workspace ?? FileManager.default.currentDirectoryPath, isDirectory: true).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            fail(.invalidArgument("the workspace \(root.path) is not a folder"))
        }
        let settings = AgentFlags(candidates: candidates, maxIterations: maxIterations, approval: approval,
                                        provider: provider, profile: profile, tokenBudget: nil, planning: plan,
                                        network: net.network, allowedHosts: net.allowedHosts)
        let runtime: AgentRuntime
        do {
            runtime = try AgentRuntime(flags: settings)
            try runtime.checkWorkspace(root)
            NetworkOptions.announce(runtime.network)
        } catch {
            fail(error)
        }
        await ChatSession(runtime: runtime, workspace: root).loop()
    }
}
