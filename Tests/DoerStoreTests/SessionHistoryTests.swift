import DoerCore
import DoerStore
import Foundation
import GRDB
import Testing

@Suite("session history")
struct SessionHistoryTests {
    static let plan = Plan(steps: ["write"], files: ["a.py"], language: "python", testStrategy: "pytest")

    static func summary(_ outcome: RunSummary.Outcome, applied: Bool = false, diff: String = "") -> RunSummary {
        RunSummary(outcome: outcome, winner: 0, iterations: 1, changedFiles: [FileChange(path: "a.py", kind: .added)], applied: applied,
                   diff: diff, usage: TokenUsage(promptTokens: 1, completionTokens: 1), durationMs: 1, message: "m")
    }

    static func backup(_ path: String) -> WorkspaceBackup {
        WorkspaceBackup(workspace: "/w", entries: [WorkspaceBackup.Entry(path: path, original: nil, mode: nil)])
    }

    static func deploy(_ id: String, _ state: DeployProgress.State) -> DeployProgress {
        var progress = DeployProgress(id: id, session: "s", requestedBy: "ana", target: nil, openPullRequest: false, branch: "b",
                                      message: nil, createdAt: Date(timeIntervalSince1970: 0))
        progress.state = state
        return progress
    }

    @Test("applied changes: added then modified stays added; an undo takes its paths out; a later apply puts them back")
    func appliedChanges() {
        var events: [SessionEvent] = [
            .agent(.changesApplied(files: [FileChange(path: "a.py", kind: .added), FileChange(path: "b.py", kind: .modified)])),
            .agent(.changesApplied(files: [FileChange(path: "a.py", kind: .modified)])),
        ]
        #expect(SessionHistory(events: events).appliedChanges == [FileChange(path: "a.py", kind: .added), FileChange(path: "b.py", kind: .modified)])
        events.append(.undone(paths: ["b.py"]))
        #expect(SessionHistory(events: events).appliedChanges == [FileChange(path: "a.py", kind: .added)])
        events.append(.undone(paths: ["a.py"]))
        #expect(SessionHistory(events: events).appliedChanges.isEmpty)
        #expect(!SessionHistory(events: events).isApplied)
        events.append(.agent(.changesApplied(files: [FileChange(path: "b.py", kind: .deleted)])))
        #expect(SessionHistory(events: events).appliedChanges == [FileChange(path: "b.py", kind: .deleted)])
        #expect(SessionHistory(events: events).isApplied)
    }

    @Test("undo: the latest undo point, and none once an undo used it, until a later run records another")
    func pendingUndo() {
        var events: [SessionEvent] = [.agent(.undoPoint(Self.backup("old.py"))), .agent(.undoPoint(Self.backup("new.py")))]
        #expect(SessionHistory(events: events).pendingUndo == Self.backup("new.py"))
        events.append(.undone(paths: ["new.py"]))
        #expect(SessionHistory(events: events).pendingUndo == nil, "a second undo must find nothing, not the older point")
        events.append(.agent(.undoPoint(Self.backup("third.py"))))
        #expect(SessionHistory(events: events).pendingUndo == Self.backup("third.py"))
        #expect(SessionHistory(events: []).pendingUndo == nil)
    }

    @Test("resume point: an undone change is not applied, so the session can be resumed; agent work is kept")
    func resumePoint() {
        var events: [SessionEvent] = [
            .agent(.started(task: "t", workspace: "/w", candidates: 1)), .agent(.plan(Self.plan)),
            .agent(.action(candidate: 0, .writeFile(path: "a.py", content: "x"))),
            .agent(.changesApplied(files: [FileChange(path: "a.py", kind: .added)])),
        ]
        #expect(SessionHistory(events: events).resumePoint.applied)
        events.append(.undone(paths: ["a.py"]))
        let point = SessionHistory(events: events).resumePoint
        #expect(!point.applied)
        #expect(point.plan == Self.plan)
        #expect(point.candidates.first?.actions == [.writeFile(path: "a.py", content: "x")])
        // Session-level events in the middle of a run change nothing of the agent's work.
        events.insert(.deploy(Self.deploy("d", .failed)), at: 2)
        #expect(SessionHistory(events: events).resumePoint.candidates == point.candidates)
    }

    @Test("runs: each started run with its summary; an interrupted one has none")
    func runs() {
        let history = SessionHistory(events: [
            .agent(.started(task: "first", workspace: "/w", candidates: 1)), .agent(.done(Self.summary(.passed, applied: true))),
            .undone(paths: ["a.py"]),
            .agent(.started(task: "second", workspace: "/w", candidates: 1)),
        ])
        #expect(history.runs.map(\.task) == ["first", "second"])
        #expect(history.runs.map(\.summary?.outcome) == [.passed, nil])
    }

    @Test("deploys: the latest state of each, in the order they started; the plan is the latest one")
    func deploysAndPlan() {
        let other = Plan(steps: ["again"], files: [], language: "python", testStrategy: "pytest")
        let history = SessionHistory(events: [
            .deploy(Self.deploy("one", .preparing)), .agent(.plan(Self.plan)), .deploy(Self.deploy("two", .preparing)),
            .deploy(Self.deploy("one", .succeeded)), .agent(.plan(other)),
        ])
        #expect(history.deploys.map(\.id) == ["one", "two"])
        #expect(history.deploys.map(\.state) == [.succeeded, .preparing])
        #expect(history.plan == other)
    }

    @Test("latest change: the diff awaiting approval, then the finished run's with whether it was applied")
    func latestChange() {
        let request = ApprovalRequest(id: "1", summary: "s", diff: "+a", files: [FileChange(path: "a.py", kind: .added)])
        var events: [SessionEvent] = [.agent(.approvalRequested(request))]
        #expect(SessionHistory(events: events).latestChange?.diff == "+a")
        #expect(SessionHistory(events: events).latestChange?.applied == false)
        events.append(.agent(.done(Self.summary(.passed, applied: true, diff: "+b"))))
        #expect(SessionHistory(events: events).latestChange?.diff == "+b")
        #expect(SessionHistory(events: events).latestChange?.applied == true)
        // A later run that changed nothing leaves the earlier change as the latest.
        events.append(.agent(.done(Self.summary(.failedTests))))
        #expect(SessionHistory(events: events).latestChange?.diff == "+b")
        #expect(SessionHistory(events: []).latestChange == nil)
    }

    @Test("events stored before session events existed still read back, undo and deploy included")
    func oldStoredEvents() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("doer-history-\(UUID().uuidString)/doer.sqlite")
        defer { try? FileManager.default.removeItem(at: path.deletingLastPathComponent()) }
        let store = try SessionStore(path: path)
        let session = try store.createSession(task: "t", workspace: "/w")
        // Rows exactly as earlier versions wrote them (one-key objects, `_0` for unlabelled values).
        let rows = [
            #"{"started":{"task":"t","workspace":"\/w","candidates":1}}"#,
            #"{"undoPoint":{"_0":{"workspace":"\/w","entries":[{"path":"a.py"}]}}}"#,
            #"{"changesApplied":{"files":[{"path":"a.py","kind":"added"}]}}"#,
            #"{"undone":{"paths":["a.py"]}}"#,
            #"{"deploy":{"_0":{"id":"d1","session":"s","requested_by":"ana","open_pull_request":false,"state":"failed","pushed":false,"created_at":"1970-01-01T00:00:00Z","updated_at":"1970-01-01T00:00:00Z"}}}"#,
        ]
        let queue = try DatabaseQueue(path: path.path)
        try queue.write { db in
            for (index, json) in rows.enumerated() {
                try db.execute(sql: "INSERT INTO event (sessionId, seq, type, json, createdAt) VALUES (?, ?, ?, ?, ?)",
                               arguments: [session.id, index + 1, "x", json, 0])
            }
        }
        try queue.close()
        let history = try SessionHistory(of: session.id, in: store)
        #expect(history.events.count == rows.count, "every old row decodes")
        #expect(history.events[3] == .undone(paths: ["a.py"]))
        #expect(history.pendingUndo == nil)
        #expect(history.appliedChanges.isEmpty)
        #expect(history.deploys.map(\.id) == ["d1"])
        #expect(history.deploys.first?.state == .failed)
    }
}
