import DoerAgent
import DoerCore
import DoerRuntime
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
                if case .started(let task, _, _) = event { return task }
                return nil
            }
            #expect(started.count == 2)
            let second = try #require(started.last)
            #expect(second.hasPrefix("Now add sub(a, b)"))
            #expect(second.contains("Write add(a, b) in calc.py with tests\": done, applied"), "\(second)")
        }
    }

    @Test("MCP run_task is a recorded session: in the store and the audit trail")
    func mcpRunTask() async throws {
        let harness = try ServerHarness()
        let tools = MCPToolServer(executions: harness.server.executions, runtime: harness.runtime, maxIterations: 3, applyChanges: true)
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
        #expect(events.contains { if case .changesApplied = $0 { return true } else { return false } })
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
}
