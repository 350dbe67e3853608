import DoerCore
import Foundation
import Testing

/// The web app, `--json` consumers and stored sessions read session events as one-key JSON
/// objects; wrapping agent events must not change a byte of that.
@Suite("session event coding")
struct SessionEventCodingTests {
    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static let agentEvents: [AgentEvent] = [
        .started(task: "t", workspace: "/w", candidates: 2),
        .plan(Plan(steps: ["a"], files: ["f.py"], language: "python", testStrategy: "pytest")),
        .messageDelta(candidate: 1, text: "hi"),
        .action(candidate: 0, .editFile(path: "f.py", search: "a", replace: "b")),
        .executionOutput(candidate: 0, channel: .stderr, text: "e"),
        .candidateStatus(candidate: 0, status: .failed(reason: "r")),
        .undoPoint(WorkspaceBackup(workspace: "/w", entries: [WorkspaceBackup.Entry(path: "f.py", original: Data("x".utf8), mode: 0o644)])),
        .changesApplied(files: [FileChange(path: "f.py", kind: .modified)]),
        .done(RunSummary(outcome: .unverified, winner: nil, iterations: 2, changedFiles: [], applied: false, diff: "",
                         usage: TokenUsage(promptTokens: 3, completionTokens: 4), durationMs: 5, message: "m")),
    ]

    @Test("an agent event in a session event encodes exactly as the agent event alone, and decodes back")
    func agentEventsUnchanged() throws {
        for event in Self.agentEvents {
            let wrapped = SessionEvent.agent(event)
            #expect(try Self.json(wrapped) == Self.json(event))
            #expect(try JSONDecoder().decode(SessionEvent.self, from: JSONEncoder().encode(event)) == wrapped)
        }
    }

    @Test("undone and deploy keep the shape earlier versions stored and the web app reads")
    func sessionLevelShapes() throws {
        #expect(try Self.json(SessionEvent.undone(paths: ["a.py", "b"])) == #"{"undone":{"paths":["a.py","b"]}}"#)
        var progress = DeployProgress(id: "d", session: "s", requestedBy: "ana", target: "github", openPullRequest: true,
                                      branch: "doer/x", message: nil, createdAt: Date(timeIntervalSince1970: 0))
        progress.state = .succeeded
        let deploy = SessionEvent.deploy(progress)
        let encoded = try Self.json(deploy)
        #expect(encoded == "{\"deploy\":{\"_0\":" + (try Self.json(progress)) + "}}")
        #expect(try JSONDecoder().decode(SessionEvent.self, from: Data(encoded.utf8)) == deploy)
        #expect(try JSONDecoder().decode(SessionEvent.self, from: Data(#"{"undone":{"paths":[]}}"#.utf8)) == .undone(paths: []))
    }

    @Test("malformed or unknown events are errors, not silently another event")
    func malformed() {
        for text in [#"{}"#, #"{"undone":{}}"#, #"{"undone":{"paths":["a"]},"plan":{}}"#, #"{"deploy":{"progress":{}}}"#,
                     #"{"nonsense":{}}"#, #"[]"#, #"{"undone":{"paths":"a.py"}}"#] {
            #expect(throws: (any Error).self, "\(text)") { try JSONDecoder().decode(SessionEvent.self, from: Data(text.utf8)) }
        }
    }
}
