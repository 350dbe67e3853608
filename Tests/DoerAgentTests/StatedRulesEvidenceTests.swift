import DoerCore
import DoerSandbox
@testable import DoerAgent
import Foundation
import Testing

/// "An empty list raises ValueError": a rule Doer tests itself. It must hold, but a test of it
/// going from red to green shows only that rule, never the request done.
private enum Median {
    static let task = "Create stats.py with median(values) that returns the median of a list of numbers, the mean of the two middle "
        + "values when there is an even number of them. An empty list raises ValueError. Add tests."
    /// Handles the empty list; takes the upper middle value for an even count.
    static let upperMiddle = """
        def median(values):
            if not values:
                raise ValueError("empty")
            ordered = sorted(values)
            return ordered[len(ordered) // 2]

        """
    static let right = upperMiddle.replacingOccurrences(of: "    return ordered[len(ordered) // 2]\n", with: """
            middle = len(ordered) // 2
            return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2

        """)
    /// The model's own test agrees with the upper middle.
    static let ownTest = "from stats import median\n\n\ndef test_median():\n    assert median([3, 1, 2]) == 2\n    assert median([4, 1, 3, 2]) == 3\n"
    static let check = Replies.files(["test_request_check.py": "from stats import median\n\n\ndef test_even():\n    assert median([4, 1, 3, 2]) == 2.5\n"])
}

@Suite("a rule the request states in words must hold, and shows nothing more")
struct StatedRulesEvidenceTests {

    @Test("code that keeps the empty-list rule and misreads the rest: the test written apart disagrees, unverified, nothing applied")
    func ruleAloneIsNoEvidence() async throws {
        let ws = try AgentWorkspace()
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": Median.upperMiddle, "test_stats.py": Median.ownTest])],
                                            Replies.independentWriter: [Median.check]])
        let (_, summary) = try await AgentHarness.run(model, task: Median.task, in: ws, maxIterations: 1, approval: .never)
        #expect(summary.outcome == .unverified, "\(summary.message)")
        #expect(!summary.applied && ws.read("stats.py") == nil)
    }

    @Test("the rule, the model's tests and the test written apart all pass: verified on the model's tests and the test apart")
    func ruleWithTheRest() async throws {
        let ws = try AgentWorkspace()
        let ownTest = Median.ownTest.replacingOccurrences(of: "== 3\n", with: "== 2.5\n")
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": Median.right, "test_stats.py": ownTest])],
                                            Replies.independentWriter: [Median.check]])
        let (events, summary) = try await AgentHarness.run(model, task: Median.task, in: ws, approval: .never)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(AgentHarness.evidence(events)?.sources == [.modelTests, .independentTest])
        #expect(ws.read("stats.py") == Median.right && ws.read(TestStrategy.rulesFile) == nil)
    }

    @Test("code that breaks the rule does not pass, however the model tests it")
    func brokenRuleFails() async throws {
        let ws = try AgentWorkspace()
        let noRule = Median.right.replacingOccurrences(of: "    if not values:\n        raise ValueError(\"empty\")\n", with: "")
        let ownTest = Median.ownTest.replacingOccurrences(of: "== 3\n", with: "== 2.5\n")
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": noRule, "test_stats.py": ownTest])],
                                            Replies.independentWriter: [Median.check]])
        let (_, summary) = try await AgentHarness.run(model, task: Median.task, in: ws, maxIterations: 1, approval: .never)
        #expect(summary.outcome != .passed, "\(summary.message)")
        #expect(!summary.applied)
    }

    @Test("with a stated example in an empty workspace, the tests the model adds run too: a wrong one is not applied as passing")
    func modelTestsRunBesideExamples() async throws {
        let ws = try AgentWorkspace()
        let task = "Create roman.py with to_roman(n) for 1 to 3999; to_roman(1994) should return 'MCMXCIV'. Add tests."
        let code = """
            def to_roman(n):
                out = ""
                for value, letters in [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                                       (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]:
                    while n >= value:
                        out += letters
                        n -= value
                return out

            """
        let wrongTest = "from roman import to_roman\n\n\ndef test_150():\n    assert to_roman(150) == 'LX'\n"
        let model = ScriptedModel(replies: [0: [Replies.files(["roman.py": code, "test_roman.py": wrongTest])]])
        let (events, summary) = try await AgentHarness.run(model, task: task, in: ws, maxIterations: 1, approval: .never)
        let commands = events.compactMap { if case .executionStarted(_, let command) = $0 { command } else { nil } }
        #expect(commands.contains { $0.contains("test_doer_examples.py") && $0.contains("test_roman.py") }, "\(commands)")
        // Its code is right, so the cross-check may take it, never with the wrong assertion.
        #expect(ws.read("test_roman.py")?.contains("'LX'") != true, "\(summary.message)")
        #expect(summary.outcome != .passed || summary.message.contains("cross-checked"), "\(summary.message)")
    }
}
