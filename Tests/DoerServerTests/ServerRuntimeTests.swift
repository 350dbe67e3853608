import DoerAgent
import DoerConfig
import DoerCore
import DoerLanguages
import DoerRuntime
import DoerSandbox
@testable import DoerMCP
@testable import DoerServer
import DoerStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MCP
import Testing

@Suite("the server and MCP on the shared runtime: undo, conversation context, recorded MCP runs")
struct ServerRuntimeTests {
    static let task = #"{"message": "Write add(a, b) in calc.py with tests"}"#

    /// Starts a session, approves its change, and waits for the run to end.
    static func appliedSession(_ harness: ServerHarness, _ client: any TestClientProtocol, token: String) async throws -> String {
        let id = try #require(try await client.call(.post, "/v1/sessions", token: token, json: task).json["id"] as? String)
        try await harness.eventually("an approval is pending") { await !harness.server.hub.pendingApprovals(id).isEmpty }
        let approval = try #require(await harness.server.hub.pendingApprovals(id).first?.id)
        _ = try await client.call(.post, "/v1/sessions/\(id)/approvals/\(approval)", token: token, json: #"{"approve": true}"#)
        await harness.server.hub.waitUntilIdle(id)
        return id
    }

    @Test("POST …/undo puts the workspace back, is recorded and streamed, and a second undo finds nothing")
    func undo() async throws {
        let harness = try ServerHarness()
        let ada = try harness.token("ada"), bob = try harness.token("bob")
        try await harness.test { client in
            let id = try await Self.appliedSession(harness, client, token: ada)
            #expect(try await client.call(.get, "/v1/sessions/\(id)/files/calc.py", token: ada).status == .ok)
            #expect(try await client.call(.post, "/v1/sessions/\(id)/undo", token: bob).status == .notFound, "another user's session")
            let undone = try await client.call(.post, "/v1/sessions/\(id)/undo", token: ada)
            #expect(undone.status == .ok, "\(undone.text)")
            #expect(Set((undone.json["restored"] as? [String]) ?? []) == ["calc.py", "test_calc.py"])
            #expect(try await client.call(.get, "/v1/sessions/\(id)/files/calc.py", token: ada).status == .notFound)
            let events = parseSSE(try await client.call(.get, "/v1/sessions/\(id)/events?follow=false", token: ada).text)
            #expect(events.last?.type == "undone")
            #expect(events.map(\.id) == Array(1...events.count), "the undo's event number follows the run's")
            let again = try await client.call(.post, "/v1/sessions/\(id)/undo", token: ada)
            #expect(again.status == .conflict, "\(again.text)")
            let audit = (try await client.call(.get, "/v1/sessions/\(id)/audit", token: ada).json["records"] as? [[String: Any]]) ?? []
            #expect(audit.contains { $0["kind"] as? String == "files.restored" && $0["actor"] as? String == "ada" }, "\(audit)")
        }
    }

    @Test("a follow-up message is told what the session's earlier run did, as chat does")
    func followUpContext() async throws {
        let harness = try ServerHarness()
        let ada = try harness.token("ada")
        try await harness.test { client in
            let id = try await Self.appliedSession(harness, client, token: ada)
            let follow = try await client.call(.post, "/v1/sessions/\(id)/messages", token: ada, json: #"{"text": "Now add sub(a, b)"}"#)
            #expect(follow.status == .accepted)
            // The follow-up's own change waits for an approval nobody gives here.
            try await harness.eventually("the follow-up asks or ends") {
                let asking = await !harness.server.hub.pendingApprovals(id).isEmpty
                let running = await harness.server.hub.isRunning(id)
                return asking || !running
            }
            _ = await harness.server.hub.cancel(id)
            await harness.server.hub.waitUntilIdle(id)
            let started = try harness.server.store.events(of: id).compactMap { event -> String? in
                if case .agent(.started(let task, _, _)) = event { return task }
                return nil
            }
            #expect(started.count == 2)
            let second = try #require(started.last)
            #expect(second.hasPrefix("Now add sub(a, b)"))
            #expect(second.contains("Write add(a, b) in calc.py with tests\": done, applied"), "\(second)")
        }
    }

    @Test("MCP tools work only inside the server's roots: a folder outside, or a link inside that leads outside, is refused before anything is read")
    func mcpRoots() async throws {
        let harness = try ServerHarness()
        let base = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-mcp-roots-\(UUID().uuidString.prefix(8))")
        let project = base.appendingPathComponent("project"), outside = base.appendingPathComponent("home")
        for folder in [project, outside] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        defer { try? FileManager.default.removeItem(at: base) }
        try "KEY".write(to: outside.appendingPathComponent("id_rsa"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(at: project.appendingPathComponent("out"), withDestinationURL: outside)
        let tools = MCPToolServer(executions: harness.server.executions, runtime: harness.runtime, maxIterations: 1, applyChanges: true,
                                  roots: [project])
        for (tool, path) in [("run_task", outside.path), ("run_tests", outside.path), ("run_task", project.path + "/out"),
                             ("run_task", project.path + "/../home"), ("run_task", "/etc")] {
            await #expect(throws: (any Error).self, "\(tool) \(path)") {
                _ = try await tools.call(tool, ["task": "print the key", "workspace": .string(path)])
            }
        }
        #expect(try harness.runtime.store.sessions(limit: 10).isEmpty, "no run started")
        #expect(MCPToolServer.folder("/a/b", isInside: "/a") && MCPToolServer.folder("/a", isInside: "/a"))
        #expect(!MCPToolServer.folder("/ab", isInside: "/a") && MCPToolServer.folder("/x", isInside: "/"))
    }

    @Test("MCP run_task is a recorded session: in the store and the audit trail")
    func mcpRunTask() async throws {
        let harness = try ServerHarness()
        let tools = MCPToolServer(executions: harness.server.executions, runtime: harness.runtime, maxIterations: 3, applyChanges: true,
                                  roots: [URL(fileURLWithPath: NSTemporaryDirectory())])
        let workspace = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-mcp-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: workspace) }
        let result = try await tools.call("run_task", ["task": "Write add(a, b) in calc.py with tests", "workspace": .string(workspace.path)])
        guard case .text(let text, _, _) = try #require(result.content.first) else { Issue.record("no text"); return }
        #expect(text.contains("outcome: passed"), "\(text)")
        let sessions = try harness.runtime.store.sessions(limit: 10).filter { $0.workspace == workspace.path }
        let session = try #require(sessions.first)
        #expect(text.contains(session.id))
        let events = try harness.runtime.store.events(of: session.id)
        #expect(events.contains { if case .agent(.changesApplied) = $0 { return true } else { return false } })
        let audit = try harness.runtime.audit.records(session: session.id)
        #expect(audit.contains { $0.kind == "session.started" } && audit.contains { $0.kind == "files.changed" }, "\(audit.map(\.kind))")
        #expect(FileManager.default.fileExists(atPath: workspace.appendingPathComponent("calc.py").path))

        // undo_task puts it back, for this server's own sessions only.
        await #expect(throws: ServerError.self) { _ = try await tools.call("undo_task", ["session": "not-one-of-ours"]) }
        let undone = try await tools.call("undo_task", ["session": .string(session.id)])
        #expect(undone.isError != true)
        #expect(!FileManager.default.fileExists(atPath: workspace.appendingPathComponent("calc.py").path))
        let after = try harness.runtime.store.events(of: session.id)
        #expect(after.contains { if case .undone = $0 { return true } else { return false } })
    }

    @Test("a non-default staging folder, uid, limits and model settings reach the server's agent, its executions and MCP's runs and tests")
    func configurationReachesEveryPart() async throws {
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-serve-wiring-\(UUID().uuidString.prefix(8))")
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
        temperature = 0.6
        """.utf8).write(to: directories.configFile)
        let script = root.appendingPathComponent("script.json")
        try Data(#"{"replies": ["```file a.py\nprint(1)\n```"]}"#.utf8).write(to: script)
        // As `doer serve` and `doer mcp` build theirs.
        let runtime = try Runtime(options: RuntimeOptions(scriptedModel: script, environment: [:]), directories: directories)
        let server = try DoerHTTPServer(options: ServerOptions(workspacesRoot: root.appendingPathComponent("workspaces")), runtime: runtime)
        let tools = try MCPToolServer(runtime: runtime, applyChanges: false, roots: [root])
        let cache = staging + "/languages"

        let hubRuntime = await server.hub.runtime
        let agent = hubRuntime.agentConfiguration(await server.hub.settings)
        #expect(agent.languageCache.root.path == cache, "the server's agent caches builds where its sandboxes bind them")
        #expect(agent.stagingRoot.path.hasPrefix(staging))
        #expect(agent.limits.memoryBytes == 300 << 20 && agent.limits.wallClockSeconds == 17)
        #expect(agent.baseTemperature == 0.6)
        #expect(hubRuntime.sandboxConfiguration.unprivilegedUID == 4242 && hubRuntime.sandboxConfiguration.unprivilegedGID == 4343)
        #expect(server.executions.runner.cache.root.path == cache, "POST /v1/executions builds into the same cache")
        #expect(tools.executions.runner.cache.root.path == cache, "MCP's run_code too")
        #expect(tools.tests.cache.root.path == cache, "and MCP's run_tests")
        let mcpAgent = tools.runtime.agentConfiguration(AgentRunSettings())
        #expect(mcpAgent.languageCache.root.path == cache && mcpAgent.baseTemperature == 0.6, "and MCP's run_task agent")
        if geteuid() == 0 {
            for owner in [agent.languageCache.owner, server.executions.runner.cache.owner, tools.tests.cache.owner] {
                #expect(owner?.uid == 4242 && owner?.gid == 4343, "the cache belongs to the uid the sandbox runs as")
            }
        }
    }
}
