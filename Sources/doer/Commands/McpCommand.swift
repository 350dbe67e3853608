import ArgumentParser
import DoerAgent
import DoerConfig
import DoerCore
import DoerRuntime
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
        let tools: MCPToolServer
        do {
            let runtime = try Runtime(options: RuntimeOptions(scriptedModel: RuntimeOptions.scriptedModel(scriptedModel)))
            tools = try MCPToolServer(runtime: runtime, maxIterations: maxIterations, applyChanges: apply)
        } catch {
            fail(error)
        }
        try await tools.runStdio()
    }
}
