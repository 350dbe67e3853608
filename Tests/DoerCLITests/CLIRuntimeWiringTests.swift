import DoerAgent
import DoerConfig
import DoerCore
import DoerLanguages
import DoerModels
import DoerRuntime
import DoerSandbox
@testable import doer
import Foundation
import Testing

/// `doer exec`, `doer resume` and `doer chat` build their runtime from config.toml through
/// `AgentRuntime`; what the file says must reach the agent, its sandboxed runs and its tests.
@Suite("the command line's runtime")
struct CLIRuntimeWiringTests {
    @Test("a non-default staging folder, uid, limits and model settings reach the agent, its cache and its model")
    func configurationReachesAgent() throws {
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-cli-wiring-\(UUID().uuidString.prefix(8))")
        let staging = root.appendingPathComponent("staging").path
        let directories = DataDirectory(environment: ["DOER_HOME": root.appendingPathComponent("home").path])
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: directories.configFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("""
        [sandbox]
        staging_dir = "\(staging)"
        uid = 4242
        gid = 4343
        [limits]
        memory = "300m"
        timeout = 17
        [model]
        provider = "openai"
        base_url = "http://127.0.0.1:9/v1"
        api_key = "sk-wiring-test-key"
        name = "wiring-model"
        temperature = 0.6
        """.utf8).write(to: directories.configFile)

        let flags = AgentFlags(candidates: 2, maxIterations: 3, approval: .onRequest, provider: nil, profile: nil, tokenBudget: nil)
        let cli = try AgentRuntime(flags: flags, directories: directories)
        #expect(cli.runtime.sandboxConfiguration.stagingRoot.path == staging)
        #expect(cli.runtime.sandboxConfiguration.unprivilegedUID == 4242 && cli.runtime.sandboxConfiguration.unprivilegedGID == 4343)
        let agent = cli.runtime.agentConfiguration(cli.runSettings)
        #expect(agent.languageCache.root.path == staging + "/languages", "builds are cached where the sandbox binds them")
        #expect(agent.languageCache.root == cli.runtime.languageCache.root, "the agent's tests use the runtime's one cache")
        #expect(agent.stagingRoot.path.hasPrefix(staging), "the candidates' copies are staged under the configured folder")
        #expect(agent.limits.memoryBytes == 300 << 20 && agent.limits.wallClockSeconds == 17)
        #expect(agent.baseTemperature == 0.6)
        #expect(agent.candidates == 2 && agent.maxIterations == 3)
        #expect(cli.configuration.model.provider == .openai && cli.configuration.model.model == "wiring-model")
        let provider = try #require(cli.model as? OpenAIChatProvider, "the configured provider, not the local default")
        #expect(provider.baseURL == "http://127.0.0.1:9/v1" && provider.defaultModel == "wiring-model" && provider.apiKey == "sk-wiring-test-key")
        if geteuid() == 0 {
            #expect(agent.languageCache.owner?.uid == 4242, "the cache belongs to the sandbox's uid, so its runs can write it")
        }
    }
}
