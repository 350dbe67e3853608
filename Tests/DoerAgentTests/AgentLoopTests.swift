import DoerCore
@testable import DoerAgent
import DoerModels
import DoerSandbox
import Foundation
import Testing

final class AgentWorkspace: @unchecked Sendable {
    let url: URL
    init(files: [String: String] = [:]) throws {
        url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-agent-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (path, content) in files {
            let file = url.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: file)
        }
    }
    func read(_ path: String) -> String? { try? String(contentsOf: url.appendingPathComponent(path), encoding: .utf8) }
    deinit { try? FileManager.default.removeItem(at: url) }
}

struct Approver: ApprovalHandler {
    func decide(_ request: ApprovalRequest) async -> String? { "test-user" }
}

enum AgentHarness {
    /// The last evidence record a run emitted.
    static func evidence(_ events: [AgentEvent]) -> ChangeEvidence? {
        events.compactMap { if case .evidence(let evidence) = $0 { evidence } else { nil } }.last
    }

    static let staging = URL(fileURLWithPath: "/tmp/doer-agent-test-\(getpid())", isDirectory: true)

    static func run(_ model: ScriptedModel, task: String, in workspace: AgentWorkspace, candidates: Int = 1,
                    maxIterations: Int = 4, approval: ApprovalPolicy = .never, nativeTools: Bool = false,
                    approvals: any ApprovalHandler = DenyAllApprovals(), planning: PlanningMode = .auto,
                    resume: ResumePoint? = nil, network: NetworkPolicy = .none,
                    repairTemperature: Double? = nil, redraws: Bool = false) async throws -> (events: [AgentEvent], summary: RunSummary) {
        let sandbox = try SandboxFactory(configuration: SandboxConfiguration(
            stagingRoot: URL(fileURLWithPath: "/tmp/doer-agent-sandbox-\(getpid())", isDirectory: true))).make()
        let configuration = AgentConfiguration(maxIterations: maxIterations, candidates: candidates, repairTemperature: repairTemperature,
                                               redrawsWithoutProgress: redraws, seed: model.baseSeed,
                                               limits: ResourceLimits(wallClockSeconds: 30), approval: approval, stagingRoot: staging,
                                               nativeTools: nativeTools, planning: planning, network: network)
        let agent = Agent(provider: model, sandbox: sandbox, configuration: configuration, approvals: approvals)
        var events: [AgentEvent] = []
        for await event in agent.run(task: task, workspace: workspace.url, resumingFrom: resume) { events.append(event) }
        guard case .done(let summary) = events.last else { throw DoerError.invalidArgument("no done event") }
        return (events, summary)
    }

    static func reports(_ events: [AgentEvent]) -> [TestReport] {
        events.compactMap { if case .testReport(_, _, let report) = $0 { return report } else { return nil } }
    }
}

@Suite("agent loop with a scripted model and the real sandbox")
struct AgentLoopTests {
    @Test("a reply without blocks gets the failure and the code again, with the block forms on the file being written")
    func replyWithoutBlocks() async throws {
        let ws = try AgentWorkspace()
        let model = ScriptedModel(replies: [0: [Replies.files(["calc.py": Replies.wrong, "test_calc.py": Replies.test]),
                                                "I fixed calc.py.",
                                                Replies.files(["calc.py": Replies.right])],
                                            Replies.independentWriter: [Replies.addCheck]])
        let (_, summary) = try await AgentHarness.run(model, task: "Write add(a, b) in calc.py with tests", in: ws)
        #expect(summary.outcome == .passed, "\(summary.message)")
        let third = try #require(model.candidateRequests.dropFirst(2).first?.messages)
        let last = try #require(third.last?.content)
        #expect(last.contains("The tests failed") && last.contains("return a - b"), "\(last)")
        #expect(last.contains("```edit calc.py") && !last.contains("app.py"), "\(last)")
        // Doer's notes of earlier replies are its own words, never put in the model's mouth.
        #expect(!third.contains { $0.role == .assistant })
    }

    @Test("wrong code, then a fix: the loop repairs, passes, and applies the diff")
    func repairs() async throws {
        let ws = try AgentWorkspace()
        let model = ScriptedModel(replies: [0: [Replies.files(["calc.py": Replies.wrong, "test_calc.py": Replies.test]),
                                                Replies.files(["calc.py": Replies.right])],
                                            Replies.independentWriter: [Replies.addCheck]])
        let (events, summary) = try await AgentHarness.run(model, task: "Write add(a, b) in calc.py with tests", in: ws)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(summary.iterations == 2)
        #expect(summary.applied)
        #expect(ws.read("calc.py") == Replies.right)
        #expect(ws.read("test_calc.py") == Replies.test)
        #expect(summary.diff.contains("+    return a + b"))
        let reports = AgentHarness.reports(events)
        #expect(reports.count == 2)
        #expect(reports.first?.succeeded == false)
        #expect(reports.last?.passed == 1)
        // The failure went back to the model, trimmed, with the current files.
        let second = try #require(model.candidateRequests.dropFirst().first)
        let feedback = second.messages.last?.content ?? ""
        #expect(feedback.contains("assert"))
        #expect(feedback.contains("```file calc.py"))
        #expect(events.contains { if case .plan = $0 { return true } else { return false } })
    }

    @Test("the loop stops at the iteration limit")
    func iterationLimit() async throws {
        let ws = try AgentWorkspace(files: ["test_calc.py": Replies.test])
        let wrongs = (1...5).map { Replies.files(["calc.py": "def add(a, b):\n    return a * b + \($0)\n"]) }
        let model = ScriptedModel(replies: [0: wrongs])
        let (_, summary) = try await AgentHarness.run(model, task: "Make the tests pass", in: ws, maxIterations: 3)
        #expect(summary.outcome == .iterationLimit)
        #expect(summary.iterations == 3)
        #expect(model.recordedRequests.count == 3)
        #expect(ws.read("calc.py") == nil, "nothing is applied when no candidate passed")
    }

    @Test("the same failure twice gets one turn sampled warm; the same failure again stops the loop")
    func repeatedFailure() async throws {
        let ws = try AgentWorkspace(files: ["test_calc.py": Replies.test])
        let model = ScriptedModel(replies: [0: [Replies.files(["calc.py": Replies.wrong])]])
        let (_, summary) = try await AgentHarness.run(model, task: "Make the tests pass", in: ws, maxIterations: 5)
        #expect(summary.outcome == .repeatedFailure)
        #expect(summary.iterations == 3)
        #expect(model.recordedRequests.map(\.temperature) == [0.2, 0.2, 0.8])
    }

    @Test("a turn that only looks things up still sees the failure; a test command the model runs is not shown twice")
    func lookupKeepsFailure() async throws {
        let ws = try AgentWorkspace(files: ["test_calc.py": Replies.test])
        let model = ScriptedModel(replies: [0: [Replies.files(["calc.py": Replies.wrong]) + "\n```run\npython -m pytest -q\n```\n",
                                                "```search def add\n```\n",
                                                Replies.files(["calc.py": Replies.right])]])
        let (_, summary) = try await AgentHarness.run(model, task: "Make the tests pass", in: ws, maxIterations: 4)
        #expect(summary.outcome == .passed, "\(summary.message)")
        let second = try #require(model.recordedRequests.dropFirst().first?.messages.last?.content)
        #expect(second.contains("`python -m pytest -q` exited with 1; Doer's test run below says what failed."), "\(second)")
        #expect(second.components(separatedBy: "FAILED test_calc.py::test_add").count == 2, "the failure once, from Doer's run: \(second)")
        let third = try #require(model.recordedRequests.dropFirst(2).first?.messages.last?.content)
        #expect(third.contains("def add(a, b)"), "the search answered: \(third)")
        #expect(third.contains("The tests still fail:") && third.contains("assert add(2, 3) == 5"), "\(third)")
    }

    @Test("stuck, then a warm sample that fixes it: the run passes")
    func warmTurnFixes() async throws {
        let ws = try AgentWorkspace(files: ["test_calc.py": Replies.test])
        let wrong = Replies.files(["calc.py": Replies.wrong])
        let model = ScriptedModel(replies: [0: [wrong, wrong, Replies.files(["calc.py": Replies.right])]])
        let (_, summary) = try await AgentHarness.run(model, task: "Make the tests pass", in: ws, maxIterations: 5)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(summary.iterations == 3)
    }

    @Test("without approval nothing is applied; the diff is still reported")
    func refusesWithoutApproval() async throws {
        let ws = try AgentWorkspace(files: ["test_calc.py": Replies.test])
        let model = ScriptedModel(replies: [0: [Replies.files(["calc.py": Replies.right])]])
        let (events, summary) = try await AgentHarness.run(model, task: "Write add", in: ws, approval: .onRequest)
        #expect(summary.outcome == .passed)
        #expect(!summary.applied)
        #expect(ws.read("calc.py") == nil)
        #expect(summary.diff.contains("+def add(a, b):"))
        #expect(events.contains { if case .approvalAnswered(_, false, _) = $0 { return true } else { return false } })
    }

    @Test("a person's approval applies the changes and is recorded with who gave it")
    func appliesWithApproval() async throws {
        let ws = try AgentWorkspace(files: ["test_calc.py": Replies.test])
        let model = ScriptedModel(replies: [0: [Replies.files(["calc.py": Replies.right])]])
        let (events, summary) = try await AgentHarness.run(model, task: "Write add", in: ws, approval: .onRequest, approvals: Approver())
        #expect(summary.applied)
        #expect(ws.read("calc.py") == Replies.right)
        #expect(events.contains { if case .approvalAnswered(_, true, "test-user") = $0 { return true } else { return false } })
    }

    @Test("examples in the request become the tests when the workspace has none")
    func examplesBecomeTests() async throws {
        let ws = try AgentWorkspace()
        let task = """
        def double(x):
            \"\"\"Return twice x.
            >>> double(2)
            4
            >>> double(-3)
            -6
            \"\"\"
        """
        let model = ScriptedModel(replies: [0: [Replies.files(["double.py": "def double(x):\n    return x + 2\n"]),
                                                Replies.files(["double.py": "def double(x):\n    return 2 * x\n"])]])
        let (events, summary) = try await AgentHarness.run(model, task: task, in: ws)
        #expect(summary.outcome == .passed)
        #expect(summary.iterations == 2)
        #expect(ws.read("double.py") == "def double(x):\n    return 2 * x\n")
        #expect(ws.read("test_doer_examples.py") == nil, "Doer's own example tests are not added to the workspace")
        let first = try #require(AgentHarness.reports(events).first)
        #expect(first.failureSummary?.contains("double(-3)") == true)
        #expect(first.passed == 1 && first.failed == 1, "each example is its own test, so progress can be counted")
        // Doer's test file is Doer's business: the model is told the examples are checked and
        // sees the failing assert, never the file as one of its own to edit.
        #expect(!(model.recordedRequests.first?.messages.contains { $0.content.contains("test_doer_examples") } ?? true))
        #expect(!model.recordedRequests.contains { $0.messages.contains { $0.content.contains("```file test_doer_examples.py") } })
    }

    static let tripleTask = """
        def double(x):
            \"\"\"Return twice x.
            >>> double(2)
            4
            >>> double(-3)
            -6
            >>> double(0)
            0
            \"\"\"
        """

    @Test("a candidate that gives up hands in its best attempt, not its last")
    func keepsBestAttempt() async throws {
        let ws = try AgentWorkspace()
        let attempts = ["def double(x):\n    return x + 2\n",  // passes 1 of 3
                        "def double(x):\n    return x * x\n",  // passes 2 of 3: the best
                        "def double(x):\n    return -x\n"]     // passes 1 of 3
        let model = ScriptedModel(replies: [0: attempts.map { Replies.files(["double.py": $0]) }])
        let (events, summary) = try await AgentHarness.run(model, task: Self.tripleTask, in: ws, maxIterations: 3)
        #expect(summary.outcome == .iterationLimit)
        #expect(AgentHarness.reports(events).map(\.passed) == [1, 2, 1])
        // The best attempt is written back and recorded, so a resumed run and any report replay it.
        let replayed = ResumePoint(events: events).candidates.first?.actions.last
        #expect(replayed == .writeFile(path: "double.py", content: attempts[1]))
        let reasons = events.compactMap { event -> String? in
            if case .candidateStatus(_, .failed(let reason)) = event { return reason } else { return nil }
        }
        #expect(reasons.contains { $0.contains("kept attempt 2, which passed 2 of 3 tests") })
        #expect(ws.read("double.py") == nil, "nothing is applied when no candidate passed")
    }

    @Test("a later attempt that only ties the best does not replace it")
    func tieKeepsEarlier() async throws {
        let ws = try AgentWorkspace()
        let attempts = ["def double(x):\n    return x * x\n",      // passes 2 of 3
                        "def double(x):\n    return abs(x) * 2\n"] // also 2 of 3
        let model = ScriptedModel(replies: [0: attempts.map { Replies.files(["double.py": $0]) }])
        let (events, _) = try await AgentHarness.run(model, task: Self.tripleTask, in: ws, maxIterations: 2)
        #expect(AgentHarness.reports(events).map(\.passed) == [2, 2])
        #expect(ResumePoint(events: events).candidates.first?.actions.last == .writeFile(path: "double.py", content: attempts[0]))
    }

    @Test("a reply that only repeats the signature and docstring, or changes nothing, is told so")
    func emptyFunctionHints() async throws {
        let ws = try AgentWorkspace()
        let stub = "def double(x):\n    \"\"\"Return twice x.\"\"\"\n"
        let model = ScriptedModel(replies: [0: [Replies.files(["double.py": stub]), Replies.files(["double.py": stub]),
                                                Replies.files(["double.py": "def double(x):\n    return 2 * x\n"])]])
        let (_, summary) = try await AgentHarness.run(model, task: Self.tripleTask, in: ws, maxIterations: 3, repairTemperature: 0.7)
        #expect(summary.outcome == .passed)
        let feedback = model.recordedRequests.map { $0.messages.last?.content ?? "" }
        #expect(feedback[1].hasSuffix("`double` in double.py has no code yet, only its signature and docstring, so it returns None. "
                                      + "Reply with double.py where `double` computes and returns the result."), "the hint is the last thing said")
        #expect(!feedback[1].contains("left the files as they were"), "the first reply did change the files")
        #expect(feedback[2].contains("Your last reply left the files as they were"))
    }

    @Test("a repair temperature outside 0 to 2 is refused, naming the value")
    func repairTemperatureRange() throws {
        try AgentConfiguration(repairTemperature: 0.6).validate()
        try AgentConfiguration(repairTemperature: nil).validate()
        for bad in [-0.1, 2.5] {
            #expect { try AgentConfiguration(repairTemperature: bad).validate() } throws: { error in
                (error as? DoerError)?.description.contains("repair temperature must be 0 to 2, got \(bad)") == true
            }
        }
    }

    @Test("warm repairs: the first turn keeps the candidate's temperature, repairs are sampled, a repeat does not stop them")
    func warmRepairs() async throws {
        let ws = try AgentWorkspace()
        let wrong = Replies.files(["double.py": "def double(x):\n    return x + 2\n"])
        let model = ScriptedModel(replies: [0: [wrong, wrong, wrong]])
        let (_, summary) = try await AgentHarness.run(model, task: Self.tripleTask, in: ws, maxIterations: 3, repairTemperature: 0.7)
        #expect(summary.outcome == .iterationLimit, "the same failure again is a fresh draw's result, not a loop")
        #expect(model.recordedRequests.map(\.temperature) == [0.2, 0.7, 0.7])
        let greedy = ScriptedModel(replies: [0: [wrong, wrong, wrong]])
        let (_, stopped) = try await AgentHarness.run(greedy, task: Self.tripleTask, in: ws, maxIterations: 3)
        #expect(stopped.outcome == .repeatedFailure)
        #expect(greedy.recordedRequests.map(\.temperature) == [0.2, 0.2, 0.8])
    }

    @Test("without progress the next turn is a fresh draw of the first request; progress is repaired; the best attempt is kept")
    func redrawsWithoutProgress() async throws {
        let ws = try AgentWorkspace()
        let attempts = ["def double(x):\n    return x + 2\n",      // passes 1 of 3: progress over nothing, repaired
                        "def double(x):\n    return -x\n",         // passes 1 of 3: no progress, so a fresh draw follows
                        "def double(x):\n    return x * x\n",      // passes 2 of 3: progress, repaired
                        "def double(x):\n    return x - 1\n"]      // passes none: a fresh draw would follow
        let model = ScriptedModel(replies: [0: attempts.map { Replies.files(["double.py": $0]) }])
        let (events, summary) = try await AgentHarness.run(model, task: Self.tripleTask, in: ws, maxIterations: 4,
                                                           repairTemperature: 0.7, redraws: true)
        #expect(AgentHarness.reports(events).map(\.passed) == [1, 1, 2, 0])
        let requests = model.recordedRequests
        try #require(requests.count == 4)
        #expect(requests[1].messages.last?.content.contains("The tests failed") == true, "the first failure is repaired")
        #expect(requests[2].messages == requests[0].messages, "no progress: the first turn's request again, without the failed code")
        #expect(!requests[2].messages.contains { $0.content.contains("return -x") })
        #expect(requests[3].messages.last?.content.contains("return x * x") == true, "the draw that made progress is repaired")
        #expect(requests.map(\.temperature) == [0.2, 0.7, 0.7, 0.7], "fresh draws are sampled, not greedy")
        #expect(Set(requests.map(\.seed)).count == 4, "every draw has its own seed")
        #expect(summary.outcome == .iterationLimit)
        #expect(ResumePoint(events: events).candidates.first?.actions.last == .writeFile(path: "double.py", content: attempts[2]))
    }

    @Test("a fresh draw starts from the files the first turn showed: the failed changes are undone, so an edit of the shown text applies")
    func redrawRestoresStartingFiles() async throws {
        let stub = "def double(x):\n    return 0\n"
        let ws = try AgentWorkspace(files: ["double.py": stub])
        func edit(_ search: String, _ replace: String) -> String {
            "```edit double.py\n<<<<<<< SEARCH\n\(search)\n=======\n\(replace)\n>>>>>>> REPLACE\n```\n"
        }
        let model = ScriptedModel(replies: [0: [edit("    return 0", "    return x + 2"),    // passes 1 of 3: repaired
                                                edit("    return x + 2", "    return -x"),   // passes 1 of 3: no progress
                                                edit("    return 0", "    return 2 * x")]]) // the draw edits the stub it was shown
        let (events, summary) = try await AgentHarness.run(model, task: Self.tripleTask, in: ws, maxIterations: 3,
                                                           repairTemperature: 0.7, redraws: true)
        #expect(AgentHarness.reports(events).map(\.passed) == [1, 1, 3])
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(ws.read("double.py") == "def double(x):\n    return 2 * x\n")
        let requests = model.recordedRequests
        try #require(requests.count == 3)
        #expect(requests[2].messages == requests[0].messages)
        // The undoing is a recorded write, so a resumed run replays the same files.
        #expect(events.contains { $0 == .action(candidate: 0, .writeFile(path: "double.py", content: stub)) })
    }

    @Test("fresh draws without a repair temperature are refused: a greedy draw repeats the first answer")
    func redrawsNeedTemperature() throws {
        try AgentConfiguration(repairTemperature: 0.6, redrawsWithoutProgress: true).validate()
        #expect { try AgentConfiguration(redrawsWithoutProgress: true).validate() } throws: { error in
            (error as? DoerError)?.description.contains("fresh draws need a repair temperature") == true
        }
    }

    @Test("code without any test is never called a success")
    func neverWithoutTests() async throws {
        let ws = try AgentWorkspace()
        let model = ScriptedModel(replies: [0: [Replies.files(["calc.py": Replies.right])]])
        let (_, summary) = try await AgentHarness.run(model, task: "Write add(a, b) in calc.py", in: ws, maxIterations: 2)
        #expect(summary.outcome != .passed)
        #expect(ws.read("calc.py") == nil)
        #expect(model.recordedRequests.last?.messages.last?.content.contains("no tests") == true)
    }

    @Test("with no test yet, the model is asked for only a test file asserting the task's examples, and the code it wrote stays")
    func asksForExampleTests() async throws {
        let ws = try AgentWorkspace()
        let model = ScriptedModel(replies: [0: [Replies.files(["calc.py": Replies.right]), Replies.files(["test_calc.py": Replies.test])],
                                            Replies.independentWriter: [Replies.addCheck]])
        let (_, summary) = try await AgentHarness.run(model, task: "Write add(a, b) in calc.py; it returns the sum of its arguments.", in: ws, maxIterations: 2)
        #expect(summary.outcome == .passed, "the first reply's code is tested by the second reply's tests")
        let ask = try #require(model.candidateRequests.last?.messages.last?.content)
        #expect(ask.contains("```file calc.py"), "the code written so far is shown")
        let request = try #require(ask.components(separatedBy: "```").last)
        #expect(request.contains("Reply with only test_calc.py"))
        #expect(request.contains("`from calc import ...`"))
        #expect(request.contains("asserts the result the task states"))
    }

    @Test("an example the request states is Doer's own test: the first reply's code is checked against it, no test asked for")
    func statedExampleIsTheTest() async throws {
        let ws = try AgentWorkspace()
        let model = ScriptedModel(replies: [0: [Replies.files(["calc.py": Replies.right])]])
        let (events, summary) = try await AgentHarness.run(model, task: "Write add(a, b) in calc.py. For example add(2, 3) == 5.", in: ws, maxIterations: 2)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(model.recordedRequests.count == 1, "no model turn was spent on a test")
        #expect(AgentHarness.reports(events).last?.passed == 1)
        #expect(ws.read("test_doer_examples.py") == nil, "Doer's own test file is not applied")
    }

    @Test("a test the model wrote without importing the code gets the import, recorded; a test that was there stays as it was")
    func completesTestImports() async throws {
        let bare = "def test_add():\n    assert add(2, 3) == 5\n"
        let ws = try AgentWorkspace()
        let model = ScriptedModel(replies: [0: [Replies.files(["calc.py": Replies.right, "test_calc.py": bare])],
                                            Replies.independentWriter: [Replies.addCheck]])
        let (events, summary) = try await AgentHarness.run(model, task: "Write add(a, b) in calc.py", in: ws, maxIterations: 1)
        #expect(summary.outcome == .passed)
        #expect(ws.read("test_calc.py") == "from calc import add\n\n\n" + bare)
        let writes = events.compactMap { event -> String? in
            if case .action(_, .writeFile("test_calc.py", let content)) = event { return content } else { return nil }
        }
        #expect(writes == [bare, "from calc import add\n\n\n" + bare], "the completion is an action of its own, so a resumed run replays it")

        let users = try AgentWorkspace(files: ["test_calc.py": bare])
        let second = ScriptedModel(replies: [0: [Replies.files(["calc.py": Replies.right])]])
        let (_, unchanged) = try await AgentHarness.run(second, task: "Write add(a, b) in calc.py", in: users, maxIterations: 1)
        #expect(unchanged.outcome != .passed, "the workspace's own test is not the model's to complete")
        #expect(users.read("test_calc.py") == bare)
    }

    @Test("the first passing candidate wins; the others' model streams and sandboxed runs are cancelled")
    func speculativeCancellation() async throws {
        let ws = try AgentWorkspace(files: ["test_calc.py": Replies.test])
        let marker = "doer-loser-\(UUID().uuidString.prefix(8))"
        let model = ScriptedModel(replies: [
            0: ["```run\nbash -c 'exec -a \(marker) sleep 120'\n```\n" + Replies.files(["calc.py": Replies.right])],
            1: [ScriptedModel.hang],
            2: [Replies.files(["calc.py": Replies.right])],
        ])
        let (events, summary) = try await AgentHarness.run(model, task: "Write add", in: ws, candidates: 3)
        #expect(summary.outcome == .passed)
        #expect(summary.winner == 2)
        #expect(summary.applied)
        let cancelled = Set(events.compactMap { event -> Int? in
            if case .candidateStatus(let index, .cancelled) = event { return index } else { return nil }
        })
        #expect(cancelled == [0, 1])
        #expect(model.cancelledStreams == 1, "the hanging model stream was cancelled")
        // The loser's sandboxed `sleep` is gone too.
        var alive = true
        for _ in 0..<100 {
            alive = HostProcess.exists(withCommandLineContaining: marker)
            if !alive { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(!alive, "a cancelled candidate's process survived")
    }

    @Test("native tool calls give the same actions as text blocks")
    func nativeTools() async throws {
        let ws = try AgentWorkspace(files: ["test_calc.py": Replies.test])
        let calls = [["name": "write_file", "arguments": #"{"path": "calc.py", "content": "def add(a, b):\n    return a + b\n"}"#]]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: calls), as: UTF8.self)
        let model = ScriptedModel(replies: [0: [ScriptedModel.toolsPrefix + json]])
        let (events, summary) = try await AgentHarness.run(model, task: "Write add", in: ws, nativeTools: true)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(ws.read("calc.py") == Replies.right)
        #expect(model.recordedRequests.first?.tools.map(\.name) == ["write_file", "edit_file", "run_command", "read_file", "search_workspace", "list_definitions"])
        #expect(events.contains(.action(candidate: 0, .writeFile(path: "calc.py", content: Replies.right))))
    }

    @Test("an undo point is recorded before applying, and restoring it brings the workspace back")
    func undoPoint() async throws {
        let ws = try AgentWorkspace(files: ["test_calc.py": Replies.test, "calc.py": Replies.wrong, "old.txt": "keep me"])
        let model = ScriptedModel(replies: [0: ["```file calc.py\n\(Replies.right)```\n```file notes.md\nnew\n```\n```run\nrm old.txt\n```"]])
        let (events, summary) = try await AgentHarness.run(model, task: "Fix add", in: ws)
        #expect(summary.applied)
        #expect(ws.read("calc.py") == Replies.right)
        #expect(ws.read("old.txt") == nil)
        let undoIndex = try #require(events.firstIndex { if case .undoPoint = $0 { return true } else { return false } })
        let appliedIndex = try #require(events.firstIndex { if case .changesApplied = $0 { return true } else { return false } })
        #expect(undoIndex < appliedIndex)
        guard case .undoPoint(let backup) = events[undoIndex] else { return }
        let restored = try backup.restore()
        #expect(Set(restored) == ["calc.py", "notes.md", "old.txt"])
        #expect(ws.read("calc.py") == Replies.wrong)
        #expect(ws.read("old.txt") == "keep me")
        #expect(ws.read("notes.md") == nil)
    }

    @Test("a bad configuration is an error summary, not a crash")
    func badConfiguration() async throws {
        let ws = try AgentWorkspace()
        let model = ScriptedModel(replies: [:])
        let (_, summary) = try await AgentHarness.run(model, task: "x", in: ws, candidates: 99)
        #expect(summary.outcome == .error)
        #expect(summary.message.contains("--candidates"))
    }
}

enum HostProcess {
    static func exists(withCommandLineContaining marker: String) -> Bool {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return false }
        return entries.contains { pid in
            Int32(pid) != nil && Int32(pid) != getpid()
                && (FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map { String(decoding: $0, as: UTF8.self).contains(marker) } ?? false)
        }
    }
}

@Suite("live output of sandboxed runs")
struct LiveOutputTests {
    @Test("a command's output arrives as events before it finishes, in order, and the whole is still in the finished event")
    func streamed() async throws {
        let ws = try AgentWorkspace(files: ["test_calc.py": Replies.test])
        let script = "for i in 1 2 3; do echo line$i; sleep 0.3; done"
        let model = ScriptedModel(replies: [0: [Replies.files(["calc.py": Replies.right]) + "\n```run\n\(script)\n```\n"]])
        let (events, summary) = try await AgentHarness.run(model, task: "Write add in calc.py", in: ws)
        #expect(summary.outcome == .passed)
        let start = try #require(events.firstIndex { if case .executionStarted(_, let c) = $0 { return c == script } else { return false } })
        let end = try #require(events.firstIndex { if case .executionFinished(_, let c, _, _, _) = $0 { return c == script } else { return false } })
        let live = events[start..<end].compactMap { event -> String? in
            if case .executionOutput(0, .stdout, let text) = event { return text } else { return nil }
        }
        #expect(live.count >= 2, "the output came in pieces while the command ran: \(live)")
        #expect(live.joined() == "line1\nline2\nline3\n")
        if case .executionFinished(_, _, _, _, let output) = events[end] { #expect(output.contains("line3")) }
    }

    @Test("pieces are cut at whole UTF-8 characters")
    func utf8() {
        let snowman = Array("☃".utf8)  // 3 bytes
        #expect(LiveOutput.incompleteTail(Array("ab".utf8)) == 0)
        #expect(LiveOutput.incompleteTail(Array("a".utf8) + snowman.prefix(1)) == 1)
        #expect(LiveOutput.incompleteTail(Array("a".utf8) + snowman.prefix(2)) == 2)
        #expect(LiveOutput.incompleteTail(Array("a".utf8) + snowman) == 0)
        #expect(LiveOutput.incompleteTail([]) == 0)
    }
}

@Suite("the agent on projects in other languages")
struct OtherLanguageAgentTests {
    static let goTest = """
        package calc

        import "testing"

        func TestAdd(t *testing.T) {
        \tif got := Add(2, 3); got != 5 {
        \t\tt.Fatalf("Add(2, 3) = %d, want 5", got)
        \t}
        }

        """
    static let goMod = "module calc\n\ngo 1.19\n"

    @Test("a Go project's own tests run through the catalogue; a compile error and a failing test go back to the model by name")
    func goProject() async throws {
        let ws = try AgentWorkspace(files: ["go.mod": Self.goMod, "calc_test.go": Self.goTest])
        let model = ScriptedModel(replies: [0: [
            Replies.files(["calc.go": "package calc\n\nfunc Add(a, b int) int {\n\treturn a +\n}\n"]),
            Replies.files(["calc.go": "package calc\n\nfunc Add(a, b int) int {\n\treturn a - b\n}\n"]),
            Replies.files(["calc.go": "package calc\n\nfunc Add(a, b int) int {\n\treturn a + b\n}\n"]),
        ]])
        let (events, summary) = try await AgentHarness.run(model, task: "Write Add in calc.go", in: ws)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(summary.iterations == 3)
        #expect(ws.read("calc.go")?.contains("return a + b") == true)
        let plan = try #require(events.compactMap { if case .plan(let plan) = $0 { return plan } else { return nil } }.first)
        #expect(plan.language == "go")
        let feedback = model.recordedRequests.dropFirst().map { $0.messages.last?.content ?? "" }
        #expect(feedback[0].contains("did not compile"), "\(feedback[0])")
        #expect(feedback[1].contains("FAILED") && feedback[1].contains("TestAdd") && feedback[1].contains("Add(2, 3) = -1, want 5"), "\(feedback[1])")
        #expect(AgentHarness.reports(events).last?.passed == 1)
    }
}

@Suite("network for the agent's commands")
struct AgentNetworkTests {
    static let probe = "echo proxy=${HTTP_PROXY:-none}"
    static func model() -> ScriptedModel {
        ScriptedModel(replies: [0: [Replies.files(["calc.py": Replies.right]) + "\n```run\n\(probe)\n```\n"]])
    }

    static func probeOutput(_ events: [AgentEvent]) -> String {
        events.compactMap { if case .executionFinished(_, probe, _, _, let output) = $0 { return output } else { return nil } }.joined()
    }

    @Test("asked for first: approved, commands get the proxy; tests still run without it")
    func approved() async throws {
        let ws = try AgentWorkspace(files: ["test_calc.py": Replies.test])
        let (events, summary) = try await AgentHarness.run(Self.model(), task: "Write add in calc.py", in: ws, approval: .onRequest,
                                                           approvals: Approver(), network: .allowlist(["example.org"]))
        #expect(summary.outcome == .passed)
        let request = try #require(events.compactMap { if case .approvalRequested(let r) = $0 { return r } else { return nil } }.first)
        #expect(request.summary.contains("reach the network (only example.org)"))
        #expect(Self.probeOutput(events).contains("proxy=http://127.0.0.1:"), "\(Self.probeOutput(events))")
    }

    @Test("refused: commands run without network and the summary says so")
    func refused() async throws {
        let ws = try AgentWorkspace(files: ["test_calc.py": Replies.test])
        let (events, summary) = try await AgentHarness.run(Self.model(), task: "Write add in calc.py", in: ws, approval: .onRequest,
                                                           network: .allowlist(["example.org"]))
        #expect(summary.outcome == .passed)
        #expect(Self.probeOutput(events).contains("proxy=none"))
        #expect(summary.message.contains("network not approved"))
        #expect(!summary.applied)
    }

    @Test("with approval never nothing is asked")
    func never() async throws {
        let ws = try AgentWorkspace(files: ["test_calc.py": Replies.test])
        let (events, _) = try await AgentHarness.run(Self.model(), task: "Write add in calc.py", in: ws, approval: .never,
                                                     network: .allowlist(["example.org"]))
        #expect(!events.contains { if case .approvalRequested = $0 { return true } else { return false } })
        #expect(Self.probeOutput(events).contains("proxy=http://127.0.0.1:"))
    }
}

@Suite("what a run leaves behind")
struct ToolCacheTests {
    @Test("caches of the tools the model ran are not part of the change")
    func cachesLeftOut() async throws {
        let ws = try AgentWorkspace(files: ["test_calc.py": Replies.test])
        let model = ScriptedModel(replies: [0: [Replies.files(["calc.py": Replies.right]) + "\n```run\npython3 -m pytest -q\n```\n"]])
        let (_, summary) = try await AgentHarness.run(model, task: "Write add in calc.py", in: ws)
        #expect(summary.outcome == .passed)
        #expect(summary.changedFiles.map(\.path) == ["calc.py"])
        #expect(!FileManager.default.fileExists(atPath: ws.url.appendingPathComponent(".pytest_cache").path))
        #expect(!FileManager.default.fileExists(atPath: ws.url.appendingPathComponent("__pycache__").path))
    }

    @Test("which paths count as tool caches")
    func paths() {
        #expect(ToolCaches.contains(".pytest_cache/v/cache/nodeids"))
        #expect(ToolCaches.contains("pkg/__pycache__/mod.cpython-311.pyc"))
        #expect(!ToolCaches.contains("src/cache.py"))
        #expect(!ToolCaches.contains("pytest_cache.md"))
    }
}
