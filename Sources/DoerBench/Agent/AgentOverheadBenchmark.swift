import DoerAgent
import DoerCore
import DoerModels
public import DoerSandbox
import Foundation

/// `doer bench agent`: what the agent itself costs per iteration — prompts, parsing,
/// workspace copies, diffs, events — with the model's time and the sandbox's time taken
/// out. A replay model answers instantly with a wrong solution, so every iteration runs
/// the full loop: generate, parse, write, test, trim the failure, build the next prompt.
public struct AgentOverheadBenchmark: Sendable {
    public struct Report: Sendable, Codable {
        public var iterations: Int
        public var wallMs: Double
        public var sandboxMs: Double
        public var agentMsPerIteration: Double
    }

    public let sandbox: any Sandbox
    public var iterations: Int

    public init(sandbox: any Sandbox, iterations: Int = 10) {
        self.sandbox = sandbox
        self.iterations = iterations
    }

    public func run() async throws -> Report {
        let workspace = FileManager.default.temporaryDirectory.appendingPathComponent("doer-bench-agent-\(getpid())")
        try? FileManager.default.removeItem(at: workspace)
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: workspace) }
        try "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
            .write(to: workspace.appendingPathComponent("test_calc.py"), atomically: true, encoding: .utf8)
        for index in 0..<20 {
            try "# filler module \(index)\nVALUE = \(index)\n".write(to: workspace.appendingPathComponent("module_\(index).py"), atomically: true, encoding: .utf8)
        }
        let configuration = AgentConfiguration(maxIterations: iterations, candidates: 1, approval: .never)
        let agent = Agent(provider: ReplayModel(), sandbox: sandbox, configuration: configuration)
        let start = ContinuousClock.now
        var sandboxMs = 0.0
        var turns = 0
        for await event in agent.run(task: "Make the tests pass", workspace: workspace) {
            switch event {
            case .executionFinished(_, _, _, let ms, _): sandboxMs += ms
            case .testReport: turns += 1
            default: break
            }
        }
        let wall = (ContinuousClock.now - start).milliseconds
        return Report(iterations: turns, wallMs: wall, sandboxMs: sandboxMs,
                      agentMsPerIteration: (wall - sandboxMs) / Double(max(turns, 1)))
    }
}

/// Answers at once with a different wrong `add` each time, so the loop never stops early.
struct ReplayModel: ModelProvider {
    let name = "replay"
    func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelDelta, any Error> {
        let turn = request.seed ?? 0
        return AsyncThrowingStream { continuation in
            continuation.yield(.text("```file calc.py\ndef add(a, b):\n    return a * b + \(turn)\n```\n"))
            continuation.yield(.usage(TokenUsage(promptTokens: 500, completionTokens: 20)))
            continuation.yield(.finished(.stop))
            continuation.finish()
        }
    }
}
