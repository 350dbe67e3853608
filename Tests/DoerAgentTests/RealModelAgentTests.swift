import DoerCore
@testable import DoerAgent
@testable import DoerModels
import DoerProcess
import DoerSandbox
import Foundation
import Testing

/// One end-to-end run with the bundled local model on a small task. The model's quality is
/// not under test; the loop's behaviour is: it plans, writes through the sandbox, tests,
/// ends with a summary, and leaves nothing running.
@Suite("agent with the real local model", .serialized)
struct RealModelAgentTests {
    @Test("a small task runs through plan, actions, sandboxed tests and a summary")
    func smallTask() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("doer-agent-real-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: home) }
        let locations = LocalModelLocations(directories: DataDirectory(environment: ["DOER_HOME": home.path]),
                                            modelsDirectory: LocalModelLocations().models)
        var settings = ModelSettings()
        settings.requestTimeoutSeconds = 180
        let provider = LocalModelProvider(settings: settings, locations: locations,
                                          options: LocalServerOptions(parallel: 2, contextPerSlot: 4096, startTimeoutSeconds: 180))
        let server = LocalModelServer(locations: locations)
        defer {
            // The suite's own server never outlives it.
            if let state = LocalServerState.read(locations.serverState) {
                kill(state.pid, SIGKILL)
                _ = DetachedProcess.isRunning(state.pid)
            }
        }
        let workspace = try AgentWorkspace()
        let task = """
        Write add.py with this function:

        def add(a, b):
            \"\"\"Return the sum of a and b.
            >>> add(2, 3)
            5
            >>> add(-1, 1)
            0
            \"\"\"
        """
        let sandbox = try SandboxFactory(configuration: SandboxConfiguration(
            stagingRoot: URL(fileURLWithPath: "/tmp/doer-agent-sandbox-\(getpid())", isDirectory: true))).make()
        let agent = Agent(provider: provider, sandbox: sandbox, configuration: AgentConfiguration(
            maxIterations: 2, candidates: 2, maxTokensPerTurn: 400, approval: .never, stagingRoot: AgentHarness.staging))
        var events: [AgentEvent] = []
        for await event in agent.run(task: task, workspace: workspace.url) { events.append(event) }
        _ = try? await server.stop(graceSeconds: 3)

        guard case .done(let summary) = events.last else {
            Issue.record("the run did not end with a summary")
            return
        }
        #expect(events.contains { if case .plan = $0 { return true } else { return false } })
        #expect(events.contains { if case .messageDelta = $0 { return true } else { return false } }, "the model streamed text")
        #expect(summary.outcome != .error, "\(summary.message)")
        #expect(summary.usage.totalTokens > 0)
        if summary.outcome == .passed {
            // Success is only ever claimed after a passing sandboxed test run.
            #expect(AgentHarness.reports(events).contains { $0.succeeded })
            #expect(workspace.read("add.py") != nil)
        } else {
            #expect(workspace.read("add.py") == nil, "nothing is applied without a passing run")
        }
    }
}
