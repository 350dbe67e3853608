import DoerCore
@testable import DoerAgent
import Foundation
import Testing

private let endless = "import itertools\n\n\ndef ones(n):\n    return list(itertools.repeat(1))\n"
private let fixed = "def ones(n):\n    return [1] * n\n"

@Suite("a test run the sandbox stopped is explained to the model")
struct KilledTestRunTests {
    @Test("the test running when a verbose pytest run died is the last id printed without a verdict")
    func runningTest() {
        let died = """
            collecting ... collected 3 items

            test_k.py::test_ok PASSED                                                [ 33%]
            test_k.py::test_hog
            """
        #expect(KilledTestRun.runningTest(inVerboseOutput: died) == "test_k.py::test_hog")
        let dotted = "pkg/tests/test_a.py::TestA::test_param[1-2] "
        #expect(KilledTestRun.runningTest(inVerboseOutput: dotted) == "pkg/tests/test_a.py::TestA::test_param[1-2]")
        let finished = "test_k.py::test_ok PASSED   [ 50%]\ntest_k.py::test_two FAILED   [100%]\nFAILED test_k.py::test_two - assert 1 == 2\n"
        #expect(KilledTestRun.runningTest(inVerboseOutput: finished) == nil)
        #expect(KilledTestRun.runningTest(inVerboseOutput: "") == nil)
    }

    @Test("each cause is named; a time limit is not run again to learn the test")
    func summaries() {
        let memory = KilledTestRun.summary(cause: .memory(limit: 512 << 20), runningTest: "t.py::test_x", output: ".")
        #expect(memory.contains("memory limit (512m)"))
        #expect(memory.contains("t.py::test_x"))
        #expect(memory.contains("endless"))
        let time = KilledTestRun.summary(cause: .time(seconds: 30), runningTest: nil, output: "")
        #expect(time.contains("after 30 seconds"))
        #expect(!time.contains("What it printed"))
        #expect(!KilledTestRun.Cause.time(seconds: 30).comesQuickly)
        #expect(KilledTestRun.Cause.memory(limit: nil).comesQuickly)
        let result = ExecutionResult(termination: .signaled(9), memoryKilled: true, durationMs: 1, backend: .bubblewrap)
        #expect(KilledTestRun.cause(of: result, limits: ResourceLimits()) == .memory(limit: 1 << 30))
        #expect(KilledTestRun.cause(of: ExecutionResult(termination: .exited(1), durationMs: 1, backend: .bubblewrap),
                                    limits: ResourceLimits()) == nil)
    }

    @Test("end to end: code that fills memory is reported with the test that ran it, and the repair then passes")
    func endToEnd() async throws {
        let ws = try AgentWorkspace(files: ["ones.py": "def ones(n):\n    raise NotImplementedError\n"])
        let model = ScriptedModel(replies: [0: [Replies.files(["ones.py": endless]), Replies.files(["ones.py": fixed])]])
        let (_, summary) = try await AgentHarness.run(model, task: "Implement ones(n) in ones.py: ones(3) should be [1, 1, 1].",
                                                      in: ws, maxIterations: 3, approval: .never)
        let feedback = try #require(model.recordedRequests.dropFirst().first?.messages.last?.content)
        #expect(feedback.contains("went over its memory limit"), "\(feedback)")
        #expect(feedback.contains("test_doer_examples.py::"), "\(feedback)")
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(ws.read("ones.py") == fixed)
    }
}
