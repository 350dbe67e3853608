import DoerCore
@testable import DoerAgent
import DoerModels
import Foundation
import Testing

@Suite("plans the model writes")
struct ModelPlanTests {
    static let largeTask = """
        Write calc.py with add(a, b). Add sub(a, b) too. Both must accept floats. \
        Write tests in test_calc.py. Keep the functions documented.
        """

    @Test("a larger task gets the model's plan, shown first and kept in every turn's prompt")
    func modelWritesPlan() async throws {
        let ws = try AgentWorkspace()
        let model = ScriptedModel(replies: [
            -1: ["1. Write add and sub in calc.py\n2. Write tests in test_calc.py\n3. Run pytest\nFiles: calc.py, test_calc.py"],
            0: [Replies.files(["calc.py": Replies.right, "test_calc.py": Replies.test])],
            Replies.independentWriter: [Replies.addCheck],
        ])
        let (events, summary) = try await AgentHarness.run(model, task: Self.largeTask, in: ws)
        #expect(summary.outcome == .passed, "\(summary.message)")
        let plans = events.compactMap { if case .plan(let plan) = $0 { return plan } else { return nil } }
        let plan = try #require(plans.first)
        #expect(plans.count == 1)
        #expect(plan.steps == ["Write add and sub in calc.py", "Write tests in test_calc.py", "Run pytest"])
        #expect(plan.files.starts(with: ["calc.py", "test_calc.py"]))
        // The plan came before any action, and the candidate's turn carried it.
        let planIndex = try #require(events.firstIndex { if case .plan = $0 { return true } else { return false } })
        let actionIndex = try #require(events.firstIndex { if case .action = $0 { return true } else { return false } })
        #expect(planIndex < actionIndex)
        let requests = model.candidateRequests
        #expect(requests.count == 2)
        #expect(requests[0].messages.last?.content.contains("Write the plan") == true)
        #expect(requests[1].messages.last?.content.contains("Plan:\n1. Write add and sub in calc.py") == true)
        #expect(summary.usage.totalTokens >= 0)
    }

    @Test("a plan reply without steps falls back to the derived plan; the run goes on")
    func unusablePlan() async throws {
        let ws = try AgentWorkspace()
        let model = ScriptedModel(replies: [
            -1: ["Sure! I will do it."],
            0: [Replies.files(["calc.py": Replies.right, "test_calc.py": Replies.test])],
            Replies.independentWriter: [Replies.addCheck],
        ])
        let (events, summary) = try await AgentHarness.run(model, task: "Write add in calc.py with tests", in: ws, planning: .model)
        #expect(summary.outcome == .passed)
        let plan = try #require(events.compactMap { if case .plan(let plan) = $0 { return plan } else { return nil } }.first)
        #expect(plan.steps.first?.hasPrefix("Write the code for the task") == true)
        #expect(model.candidateRequests.count == 2)
        #expect(model.candidateRequests[1].messages.last?.content.contains("Plan:") == false)
    }

    @Test("small tasks spend no model turn on a plan", arguments: [
        ("Write add(a, b) in calc.py with tests", false),
        (ModelPlanTests.largeTask, true),
        ("Create a.py, b.py and c.py", true),
        ("def f(x):\n    \"\"\"Double x.\n    >>> f(2)\n    4\n    \"\"\"\n" + String(repeating: "    x = 1\n", count: 80), false),
    ])
    func autoMode(task: String, expected: Bool) {
        #expect(Planner.wantsModelPlan(task: task, files: [], mode: .auto) == expected)
        #expect(Planner.wantsModelPlan(task: task, files: [], mode: .derived) == false)
        #expect(Planner.wantsModelPlan(task: task, files: [], mode: .model) == true)
    }

    @Test("plan replies in the shapes small models write are read; prose is not")
    func parsing() {
        #expect(Planner.parse("1) first step\n2) second step")?.steps == ["first step", "second step"])
        #expect(Planner.parse("- **Create** x.py\n- Test it\nFiles: `x.py`, test_x.py")?.files == ["x.py", "test_x.py"])
        #expect(Planner.parse("I will write the code now.") == nil)
        #expect(Planner.parse("1. only one step") == nil)
        #expect(Planner.parse((1...20).map { "\($0). step \($0)" }.joined(separator: "\n"))?.steps.count == 8)
    }
}

@Suite("resuming a session")
struct ResumeTests {
    @Test("an interrupted run's files and last failure are where the resumed run starts")
    func continuesFromFiles() async throws {
        let ws = try AgentWorkspace(files: ["test_calc.py": Replies.test])
        let first = ScriptedModel(replies: [0: [Replies.files(["calc.py": Replies.wrong])]])
        let (events, summary) = try await AgentHarness.run(first, task: "Write add in calc.py", in: ws, maxIterations: 1)
        #expect(summary.outcome == .iterationLimit)
        #expect(ws.read("calc.py") == nil, "nothing reached the workspace")

        let point = ResumePoint(events: events)
        #expect(point.hasWork && !point.passed)
        let second = ScriptedModel(replies: [0: [Replies.files(["calc.py": Replies.right])]])
        let (resumedEvents, resumed) = try await AgentHarness.run(second, task: "Write add in calc.py", in: ws, resume: point)
        #expect(resumed.outcome == .passed, "\(resumed.message)")
        #expect(resumed.iterations == 1)
        #expect(ws.read("calc.py") == Replies.right)
        // The restored files were tested before the model was asked, and the model saw
        // that failure with the restored code, not a blank start.
        let reports = AgentHarness.reports(resumedEvents)
        #expect(reports.first?.succeeded == false)
        let request = try #require(second.recordedRequests.first)
        #expect(request.messages.last?.content.contains("The tests failed") == true)
        #expect(request.messages.last?.content.contains("return a - b") == true)
    }

    @Test("a run that passed but was not approved resumes to the approval without a model turn")
    func passedNotApplied() async throws {
        let ws = try AgentWorkspace(files: ["test_calc.py": Replies.test])
        let first = ScriptedModel(replies: [0: [Replies.files(["calc.py": Replies.right])]])
        let (events, summary) = try await AgentHarness.run(first, task: "Write add in calc.py", in: ws, approval: .onRequest)
        #expect(summary.outcome == .passed && !summary.applied)

        let point = ResumePoint(events: events)
        #expect(point.passed && !point.applied)
        let second = ScriptedModel(replies: [0: [Replies.files(["calc.py": Replies.wrong])]])
        let (_, resumed) = try await AgentHarness.run(second, task: "Write add in calc.py", in: ws, approval: .never, resume: point)
        #expect(resumed.outcome == .passed)
        #expect(resumed.applied)
        #expect(resumed.iterations == 0)
        #expect(second.recordedRequests.isEmpty, "no model turn was needed")
        #expect(ws.read("calc.py") == Replies.right)
    }

    @Test("replay follows each run's candidates: the best state of one run feeds candidate 0 of the next")
    func replayAcrossRuns() {
        let failing = TestReport(passed: 0, failed: 1, command: "pytest", failureSummary: "assert 1 == 2")
        let passing = TestReport(passed: 1, failed: 0, command: "pytest", failureSummary: nil)
        let events: [AgentEvent] = [
            .started(task: "t", workspace: "/w", candidates: 2),
            .action(candidate: 0, .writeFile(path: "a.py", content: "zero")),
            .action(candidate: 1, .writeFile(path: "a.py", content: "one")),
            .action(candidate: 1, .runCommand("echo hi")),
            .testReport(candidate: 0, iteration: 1, report: failing),
            .testReport(candidate: 1, iteration: 1, report: passing),
            // Second run: its candidate 0 started from the first run's passing candidate 1.
            .started(task: "t", workspace: "/w", candidates: 1),
            .action(candidate: 0, .editFile(path: "a.py", search: "one", replace: "uno")),
        ]
        let point = ResumePoint(events: events)
        #expect(point.candidates.count == 2)
        #expect(point.candidates[0].actions == [.writeFile(path: "a.py", content: "one"),
                                                .editFile(path: "a.py", search: "one", replace: "uno")])
        #expect(point.candidates[0].passed)
        #expect(point.candidates[1].actions == [.writeFile(path: "a.py", content: "zero")])
        #expect(point.candidates[1].lastFailure == "assert 1 == 2")
        #expect(!point.applied)
        #expect(ResumePoint(events: events + [.changesApplied(files: [])]).applied)
        #expect(!ResumePoint(events: []).hasWork)
    }
}

@Suite("the file a request asks for")
struct TargetFileOfTaskTests {
    @Test("named once in the words, not in quoted code; tests do not count", arguments: [
        ("Write solution.py with f()", "solution.py"),
        ("Write the function in solution.py; keep its name.", "solution.py"),
        ("Put it in app.py.", "app.py"),
        ("Complete this in solution.py\n```python\nnumbers.sort()\nx = a.py\n```", "solution.py"),
        ("Write calc.py and test_calc.py", "calc.py"),
        ("Write a.py and b.py", nil),
        ("Write a function", nil),
    ] as [(String, String?)])
    func target(task: String, expected: String?) {
        #expect(Planner.targetFile(of: task) == expected)
    }
}
