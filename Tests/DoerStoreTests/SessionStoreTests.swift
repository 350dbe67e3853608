import DoerCore
import DoerStore
import Foundation
import Testing

@Suite("session store")
struct SessionStoreTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("doer-store-\(UUID().uuidString)/doer.sqlite")

    @Test("events are kept in order and survive closing and reopening the database")
    func persistence() throws {
        let plan = Plan(steps: ["write", "test"], files: ["a.py"], language: "python", testStrategy: "pytest")
        var sessionID = ""
        do {
            let store = try SessionStore(path: path)
            let session = try store.createSession(task: "add tests", workspace: "/src/app")
            sessionID = session.id
            try store.append(.started(task: "add tests", workspace: "/src/app", candidates: 1), to: session.id)
            try store.append(.plan(plan), to: session.id)
            try store.append(.action(candidate: 0, .writeFile(path: "a.py", content: "x = 1\n")), to: session.id)
            // No `.done`: as if the process was killed here.
        }
        let reopened = try SessionStore(path: path)
        #expect(try reopened.events(of: sessionID) == [
            .agent(.started(task: "add tests", workspace: "/src/app", candidates: 1)), .agent(.plan(plan)),
            .agent(.action(candidate: 0, .writeFile(path: "a.py", content: "x = 1\n"))),
        ])
        let record = try reopened.session(String(sessionID.prefix(8)))
        #expect(record.outcome == nil, "an interrupted session has no outcome")
        #expect(record.eventCount == 3)
        try? FileManager.default.removeItem(at: path.deletingLastPathComponent())
    }

    @Test("a done event ends the session; reopening clears the outcome but keeps the events")
    func doneAndReopen() throws {
        let store = try SessionStore(path: path)
        let session = try store.createSession(task: "t", workspace: "/w")
        let summary = RunSummary(outcome: .iterationLimit, winner: nil, iterations: 3, changedFiles: [], applied: false,
                                 diff: "", usage: TokenUsage(promptTokens: 10, completionTokens: 5), durationMs: 12, message: "limit")
        try store.append(.done(summary), to: session.id)
        #expect(try store.session(session.id).outcome == "iteration-limit")
        try store.reopen(session.id)
        #expect(try store.session(session.id).outcome == nil)
        #expect(try store.events(of: session.id) == [.agent(.done(summary))])
        try? FileManager.default.removeItem(at: path.deletingLastPathComponent())
    }

    @Test("appends from many tasks at once all land, numbered without gaps")
    func concurrentAppends() async throws {
        let store = try SessionStore(path: path)
        let session = try store.createSession(task: "t", workspace: "/w")
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask { try? store.append(.messageDelta(candidate: index % 4, text: "\(index)"), to: session.id) }
            }
        }
        let texts = try store.events(of: session.id).compactMap { event -> String? in
            if case .agent(.messageDelta(_, let text)) = event { return text } else { return nil }
        }
        #expect(Set(texts) == Set((0..<50).map(String.init)))
        #expect(try store.session(session.id).eventCount == 50)
        try? FileManager.default.removeItem(at: path.deletingLastPathComponent())
    }

    @Test("unknown and ambiguous ids are clear errors")
    func lookups() throws {
        let store = try SessionStore(path: path)
        #expect(throws: DoerError.self) { try store.session("nope") }
        _ = try store.createSession(task: "a", workspace: "/w")
        _ = try store.createSession(task: "b", workspace: "/w")
        #expect {
            try store.session("")
        } throws: { "\($0)".contains("several sessions") }
        try? FileManager.default.removeItem(at: path.deletingLastPathComponent())
    }

    @Test("a path that cannot hold a database is an error naming it")
    func badPath() {
        #expect {
            try SessionStore(path: URL(fileURLWithPath: "/proc/doer/doer.sqlite"))
        } throws: { "\($0)".contains("/proc/doer/doer.sqlite") }
    }
}
