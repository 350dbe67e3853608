import Crypto
import DoerCore
import DoerStore
import Foundation
import Testing

@Suite("audit recorder")
struct AuditRecorderTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("doer-recorder-\(UUID().uuidString)")

    @Test("agent events become records: runs with command and exit code, approvals with who, files with SHA-256")
    func agentEvents() throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try Data("def f(): return 1\n".utf8).write(to: root.appendingPathComponent("app.py"))
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("link").path, withDestinationPath: "/etc/shadow")
        let log = try AuditLog(path: root.appendingPathComponent("db/doer.sqlite"))
        let recorder = AuditRecorder(log: log, actor: "ana", session: "s-1")
        let plan = Plan(steps: ["write app.py"], files: ["app.py"], language: "python", testStrategy: "pytest")
        let events: [AgentEvent] = [
            .started(task: "add f", workspace: root.path, candidates: 2),
            .plan(plan),
            .messageDelta(candidate: 0, text: "thinking"),
            .action(candidate: 0, .writeFile(path: "app.py", content: "def f(): return 1\n")),
            .executionStarted(candidate: 0, command: "pytest -q"),
            .executionFinished(candidate: 0, command: "pytest -q", exitCode: 1, durationMs: 12.6, output: "secret output"),
            .candidateStatus(candidate: 0, status: .testing(iteration: 1)),
            .approvalRequested(ApprovalRequest(id: "a1", summary: "apply 1 file", diff: "+x", files: [FileChange(path: "app.py", kind: .added)])),
            .approvalAnswered(id: "a1", approved: true, by: "bob"),
            .changesApplied(files: [FileChange(path: "app.py", kind: .added), FileChange(path: "link", kind: .added),
                                    FileChange(path: "gone.py", kind: .deleted)]),
            .done(RunSummary(outcome: .passed, winner: 0, iterations: 1, changedFiles: [], applied: true, diff: "",
                             usage: TokenUsage(promptTokens: 10, completionTokens: 5), durationMs: 100, message: "ok")),
        ]
        for event in events { try recorder.record(event) }
        let records = try log.records()
        #expect(records.map(\.kind) == ["session.started", "plan", "action", "sandbox.run", "approval.requested", "approval",
                                        "files.changed", "session.ended"])
        #expect(records.allSatisfy { $0.sessionID == "s-1" })
        let run = records[3]
        #expect(run.details["command"] == "pytest -q")
        #expect(run.details["exitCode"] == 1)
        #expect(run.details["durationMs"] == 13)
        #expect(!run.canonicalJSON.contains("secret output"), "outputs are not copied into the trail")
        #expect(records[5].actor == "bob", "the person who approved is the actor")
        #expect(records[5].details["approved"] == true)
        let expectedHash = SHA256.hash(data: Data("def f(): return 1\n".utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        #expect(records[2].details["sha256"]?.stringValue == expectedHash)
        guard case .array(let files) = records[6].details["files"] else { Issue.record("no files"); return }
        #expect(files[0]["sha256"]?.stringValue == expectedHash)
        #expect(files[1]["link"] == true, "a link is noted, never followed")
        #expect(files[1]["sha256"] == nil)
        #expect(files[2]["sha256"] == nil)
        #expect(records[7].details["outcome"] == "passed")
        #expect(try log.verify().intact)
    }

    @Test("a refused approval is recorded with the session's person as the actor")
    func refusal() throws {
        let log = try AuditLog(path: root.appendingPathComponent("doer.sqlite"))
        defer { try? FileManager.default.removeItem(at: root) }
        try AuditRecorder(log: log, actor: "ana", session: nil).record(.approvalAnswered(id: "a", approved: false, by: "nobody"))
        let record = try #require(try log.records().first)
        #expect(record.actor == "ana")
        #expect(record.details["approved"] == false)
    }

    @Test("network decisions take plain host, port, decision and reason")
    func network() throws {
        let log = try AuditLog(path: root.appendingPathComponent("doer.sqlite"))
        defer { try? FileManager.default.removeItem(at: root) }
        let recorder = AuditRecorder(log: log, actor: "ana", session: "s")
        try recorder.recordNetworkDecision(host: "pypi.org", port: 443, decision: "allow", reason: "on the allowlist")
        try recorder.recordNetworkDecision(host: "169.254.169.254", port: 80, decision: "deny", reason: "link-local address")
        let records = try log.records()
        #expect(records.map(\.kind) == ["network", "network"])
        #expect(records[1].details == ["host": "169.254.169.254", "port": 80, "decision": "deny", "reason": "link-local address"])
    }

    @Test("a run's proxy decisions are recorded before the run itself")
    func runWithNetwork() throws {
        let log = try AuditLog(path: root.appendingPathComponent("doer.sqlite"))
        defer { try? FileManager.default.removeItem(at: root) }
        var result = ExecutionResult(termination: .exited(0), durationMs: 5, backend: .bubblewrap)
        result.networkDecisions = [
            NetworkDecision(host: "pypi.org", port: 443, method: "CONNECT", verdict: .allowed, reason: .hostAllowed,
                            detail: "on the allowlist", address: "151.101.0.223", bytesSent: 10, bytesReceived: 2000),
            NetworkDecision(host: "example.com", port: 443, method: "CONNECT", verdict: .refused, reason: .hostNotAllowed,
                            detail: "not on the allowlist"),
        ]
        try AuditRecorder(log: log, actor: "ana").recordSandboxRun(command: ["pip", "install", "x"], workspace: root, result: result)
        let records = try log.records()
        #expect(records.map(\.kind) == ["network", "network", "sandbox.run"])
        #expect(records[0].details["decision"] == "allowed")
        #expect(records[0].details["address"] == "151.101.0.223")
        #expect(records[1].details["host"] == "example.com")
        #expect(records[1].details["reason"] == "host-not-allowed")
    }
}
