import ArgumentParser
import DoerAgent
import DoerConfig
import DoerCore
import DoerServer
import Foundation

struct McpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve Doer's tools (execute_code, run_tests, run_task) over the Model Context Protocol on stdio.",
        discussion: "Point an MCP client at the command `doer mcp`. Nothing is printed to stdout but the protocol."
    )

    @Flag(help: "Let run_task apply the agent's passing changes to the workspace (off: it only returns the diff).")
    var apply = false
    @Option(help: "Model turns per candidate for run_task.") var maxIterations = 6
    @Option(help: "Replay this JSON file of canned model replies instead of a real model; also DOER_SCRIPTED_MODEL.")
    var scriptedModel: String?

    func run() async throws {
        let directories = DataDirectory()
        let tools: MCPToolServer
        do {
            let scripted = scriptedModel ?? ProcessInfo.processInfo.environment["DOER_SCRIPTED_MODEL"].flatMap { $0.isEmpty ? nil : $0 }
            var agents = try ConfiguredAgentFactory.fromConfiguration(
                directories: directories, scriptedModel: scripted.map { URL(fileURLWithPath: $0) }, maxIterations: maxIterations)
            if apply { agents.approvalPolicy = .never }
            let configuration = try DoerConfiguration.load(directories: directories)
            let scratch = directories.cache.appendingPathComponent("executions", isDirectory: true)
            try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            let executions = ExecutionService(sandbox: agents.sandbox, languageCache: agents.languageCache,
                                              baseLimits: configuration.limits, maxSeconds: configuration.limits.wallClockSeconds,
                                              maxConcurrent: 4, scratchRoot: scratch)
            tools = MCPToolServer(executions: executions, sandbox: agents.sandbox, languageCache: agents.languageCache,
                                  limits: configuration.limits, agents: agents, applyChanges: apply)
        } catch {
            fail(error)
        }
        try await tools.runStdio()
    }
}
