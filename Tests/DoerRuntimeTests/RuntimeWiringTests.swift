import DoerAgent
import DoerConfig
import DoerLanguages
import DoerCore
import DoerModels
import DoerSandbox
import DoerStore
@testable import DoerRuntime
import Foundation
import Testing

/// A data folder with a config.toml of its own, removed afterwards.
struct ConfiguredHome {
    let root: URL
    let directories: DataDirectory

    init(config: String) throws {
        root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-runtime-\(UUID().uuidString.prefix(8))")
        directories = DataDirectory(environment: ["DOER_HOME": root.path])
        try FileManager.default.createDirectory(at: directories.configFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(config.utf8).write(to: directories.configFile)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

@Suite("the runtime: one place from configuration to agent")
struct RuntimeWiringTests {
    static let script: URL = {
        let file = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-runtime-script-\(getpid()).json")
        try? Data(#"{"replies": ["```file hello.py\nprint('hi')\n```"]}"#.utf8).write(to: file)
        return file
    }()

    @Test("a non-default staging folder, uid, limits and model settings reach the sandbox, the cache and the agent")
    func settingsReachEverything() throws {
        let staging = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-staging-\(UUID().uuidString.prefix(8))").path
        let home = try ConfiguredHome(config: """
        [sandbox]
        staging_dir = "\(staging)"
        uid = 4242
        gid = 4343
        [limits]
        memory = "300m"
        timeout = 17
        [model]
        temperature = 0.6
        """)
        defer { home.remove(); try? FileManager.default.removeItem(atPath: staging) }
        let runtime = try Runtime(options: RuntimeOptions(scriptedModel: Self.script, environment: [:]), directories: home.directories)
        #expect(runtime.sandboxConfiguration.stagingRoot.path == staging)
        #expect(runtime.sandboxConfiguration.unprivilegedUID == 4242 && runtime.sandboxConfiguration.unprivilegedGID == 4343)
        #expect(runtime.languageCache.root.path == staging + "/languages", "the cache lives beside the sandboxes it is bound into")
        let agent = runtime.agentConfiguration(AgentRunSettings(candidates: 2, maxIterations: 3))
        #expect(agent.languageCache.root == runtime.languageCache.root)
        #expect(agent.stagingRoot.path.hasPrefix(staging), "the agent's copies are staged under the configured folder too")
        #expect(agent.limits.memoryBytes == 300 << 20 && agent.limits.wallClockSeconds == 17)
        #expect(agent.baseTemperature == 0.6)
        #expect(agent.candidates == 2 && agent.maxIterations == 3)
        #expect(!agent.nativeTools, "a scripted model writes text blocks")
        if geteuid() == 0 {
            #expect(agent.languageCache.owner?.uid == 4242, "the cache belongs to the configured sandbox uid")
        }
    }

    @Test("the same configuration gives the same cache to every frontend's runtime")
    func frontendsAgree() throws {
        let staging = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-staging-\(UUID().uuidString.prefix(8))").path
        let home = try ConfiguredHome(config: "[sandbox]\nstaging_dir = \"\(staging)\"\n")
        defer { home.remove(); try? FileManager.default.removeItem(atPath: staging) }
        let options = RuntimeOptions(scriptedModel: Self.script, environment: [:])
        let terminal = try Runtime(options: options, directories: home.directories)
        let server = try Runtime(options: options, directories: home.directories)
        #expect(terminal.languageCache.root == server.languageCache.root)
        #expect(terminal.agentConfiguration(AgentRunSettings()).languageCache.root
                == server.agentConfiguration(AgentRunSettings(approval: .never)).languageCache.root)
    }

    @Test("the process backend is refused unless asked for by name")
    func unsafeBackend() throws {
        let home = try ConfiguredHome(config: "[sandbox]\nbackend = \"process\"\n")
        defer { home.remove() }
        #expect(throws: DoerError.self) {
            _ = try Runtime(options: RuntimeOptions(scriptedModel: Self.script, environment: [:]), directories: home.directories)
        }
    }

    @Test("a follow-up message is told what earlier runs of the session did")
    func conversation() {
        let summary = RunSummary(outcome: .passed, winner: 0, iterations: 1, changedFiles: [FileChange(path: "greet.py", kind: .added)],
                                 applied: true, diff: "", usage: TokenUsage(promptTokens: 1, completionTokens: 1), durationMs: 1, message: "ok")
        let events: [SessionEvent] = [
            .agent(.started(task: "write greet.py", workspace: "/w", candidates: 1)), .agent(.done(summary)),
            .undone(paths: ["greet.py"]), .agent(.started(task: "add a test", workspace: "/w", candidates: 1)),
        ]
        let turns = ConversationContext.turns(in: SessionHistory(events: events))
        #expect(turns.count == 2 && turns[0].summary?.applied == true && turns[1].summary == nil)
        let task = ConversationContext.task(for: "now add a farewell", after: turns)
        #expect(task.hasPrefix("now add a farewell"))
        #expect(task.contains("\"write greet.py\": done, applied; files: greet.py"))
        #expect(task.contains("\"add a test\": interrupted"))
    }
}
