import ArgumentParser
import DoerAgent
import DoerConfig
import DoerCore
import DoerModels
import DoerSandbox
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
    @Flag(help: "Print the event stream as JSON lines.") var json = false

    func run() async throws {
        let root = URL(fileURLWithPath: workspace ?? FileManager.default.currentDirectoryPath, isDirectory: true).standardizedFileURL
        let settings = AgentRunSettings(candidates: candidates, maxIterations: maxIterations, approval: approval,
                                        provider: provider, profile: profile, tokenBudget: tokenBudget, json: json)
        try await settings.run(task: task, workspace: root, resuming: nil)
    }
}

/// What `doer exec` and `doer resume` share: build the agent from the configuration, record
/// every event in the session store as it happens, show it, and exit with the outcome.
struct AgentRunSettings {
    var candidates: Int
    var maxIterations: Int
    var approval: ApprovalPolicy
    var provider: ModelSettings.ProviderKind?
    var profile: String?
    var tokenBudget: Int?
    var json: Bool

    func run(task: String, workspace root: URL, resuming session: SessionRecord?) async throws {
        let directories = DataDirectory()
        do {
            // The flag chooses the provider before the environment is read, so that
            // provider's own variables (OPENAI_BASE_URL, ANTHROPIC_API_KEY…) apply.
            var environment = ProcessInfo.processInfo.environment
            if let provider { environment["DOER_MODEL_PROVIDER"] = provider.rawValue }
            let configuration = try DoerConfiguration.load(directories: directories, environment: environment, profile: profile)
            let sandbox = try SandboxFactory(configuration: SandboxConfiguration(
                backend: configuration.sandboxBackend, unprivilegedUID: configuration.unprivilegedUID,
                unprivilegedGID: configuration.unprivilegedGID,
                stagingRoot: configuration.stagingDirectory.map { URL(fileURLWithPath: $0, isDirectory: true) },
                warmPoolSize: configuration.warmPoolSize)).make()
            let model = try ModelProviderFactory.make(configuration.model, directories: directories)
            let agentConfiguration = AgentConfiguration(
                maxIterations: maxIterations, candidates: candidates, tokenBudget: tokenBudget,
                baseTemperature: configuration.model.temperature ?? 0.2, limits: configuration.limits, approval: approval,
                // Hosted providers call tools reliably; the small local model does better with text blocks.
                nativeTools: configuration.model.provider != .local)
            try agentConfiguration.validate()
            let store = try SessionStore(path: directories.sessionDatabase)
            let record: SessionRecord
            if let session {
                try store.reopen(session.id)
                record = session
            } else {
                record = try store.createSession(task: task, workspace: root.path)
            }
            if !json { FileHandle.standardError.write(Data("doer: session \(record.id)\n".utf8)) }
            let agent = Agent(provider: model, sandbox: sandbox, configuration: agentConfiguration,
                              approvals: TerminalApprovals(enabled: !json))
            let printer = EventPrinter(json: json)
            var outcome: RunSummary.Outcome = .error
            for await event in agent.run(task: task, workspace: root) {
                try store.append(event, to: record.id)
                printer.show(event)
                if case .done(let summary) = event { outcome = summary.outcome }
            }
            throw ExitCode(outcome == .passed ? 0 : 1)
        } catch let error as DoerError {
            fail(error)
        } catch let error as ModelError {
            fail(.configuration(error.description))
        }
    }
}

extension ApprovalPolicy: ExpressibleByArgument {}
extension ModelSettings.ProviderKind: ExpressibleByArgument {}

/// Asks on the terminal; with no terminal (or in JSON mode) the answer is no.
struct TerminalApprovals: ApprovalHandler {
    let enabled: Bool

    func decide(_ request: ApprovalRequest) async -> String? {
        guard enabled, isatty(0) == 1, isatty(2) == 1 else {
            FileHandle.standardError.write(Data("doer: no terminal to ask for approval; changes not applied (pass --approval never to apply without asking)\n".utf8))
            return nil
        }
        FileHandle.standardError.write(Data("\n\(request.summary)? [y/N] ".utf8))
        guard let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() else { return nil }
        return answer == "y" || answer == "yes" ? (ProcessInfo.processInfo.environment["USER"] ?? "terminal user") : nil
    }
}
