import DoerCore
@testable import DoerAgent
import Foundation
import Testing

/// A project with code and a test of its own, in `tests/`, where the candidates put their
/// tests too (so the strategy runs them, and their wrong assertions fail every candidate).
private let project: [String: String] = [
    "util.py": "def double(n):\n    return n * 2\n",
    "tests/test_util.py": "from util import double\n\n\ndef test_double():\n    assert double(2) == 4\n",
]

private enum Roman {
    static let stated = "Create roman.py with to_roman(n), the Roman numeral of n; for example to_roman(1994) == 'MCMXCIV'. "
        + "Add tests in tests/."
    static let unstated = "Create roman.py with to_roman(n), the Roman numeral of n. Add tests in tests/."

    static let right = """
    def to_roman(n):
        table = [(1000, 'M'), (900, 'CM'), (500, 'D'), (400, 'CD'), (100, 'C'), (90, 'XC'),
                 (50, 'L'), (40, 'XL'), (10, 'X'), (9, 'IX'), (5, 'V'), (4, 'IV'), (1, 'I')]
        out = ''
        for value, letters in table:
            while n >= value:
                out += letters
                n -= value
        return out

    """
    /// Right too, written another way.
    static let alsoRight = """
    def to_roman(number):
        parts = []
        for value, letters in zip([1000, 900, 500, 400, 100, 90, 50, 40, 10, 9, 5, 4, 1],
                                  ['M', 'CM', 'D', 'CD', 'C', 'XC', 'L', 'XL', 'X', 'IX', 'V', 'IV', 'I']):
            count, number = divmod(number, value)
            parts.append(letters * count)
        return ''.join(parts)

    """
    /// Right on small numbers, wrong on the one the request states.
    static let wrongOnStated = """
    def to_roman(n):
        if n >= 1000:
            return 'M' * (n // 1000) + 'DCCCC' + 'LXXXX' + 'IIII'
        table = [(100, 'C'), (90, 'XC'), (50, 'L'), (40, 'XL'), (10, 'X'), (9, 'IX'), (5, 'V'), (4, 'IV'), (1, 'I')]
        out = ''
        for value, letters in table:
            while n >= value:
                out += letters
                n -= value
        return out

    """

    static func tests(_ cases: [(name: String, call: Int, expected: String)]) -> String {
        "from roman import to_roman\n\n\n" + cases.map { "def test_\($0.name)():\n    assert to_roman(\($0.call)) == '\($0.expected)'\n" }
            .joined(separator: "\n\n")
    }

    /// A right assertion and a wrong one (`to_roman(150) == "LX"`, seen from a small model).
    static let testsWithWrong0 = tests([("small", 4, "IV"), ("hundred_fifty", 150, "LX")])
    static let testsWithWrong1 = tests([("nine", 9, "IX"), ("forty", 40, "XXXX")])
}

private func reply(_ files: [String: String]) -> String { Replies.files(files) }

@Suite("cross-check: candidates' code against each other's tests")
struct CrossCheckTests {
    @Test("correct code with wrong model assertions: the assertions no code passes are dropped, one candidate is chosen, red → green")
    func wrongAssertionsDropped() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [
            0: [reply(["roman.py": Roman.right, "tests/test_roman.py": Roman.testsWithWrong0])],
            1: [reply(["roman.py": Roman.alsoRight, "tests/test_roman.py": Roman.testsWithWrong1])],
        ])
        let (events, summary) = try await AgentHarness.run(model, task: Roman.stated, in: ws, candidates: 2, planning: .derived)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(summary.applied)
        #expect(summary.winner == 0)
        #expect(summary.message.contains("cross-checked 2 candidate(s): dropped 2 model-written test(s)"), "\(summary.message)")
        #expect(summary.message.contains("tests/test_roman.py::test_hundred_fifty (candidate 0)"), "\(summary.message)")
        #expect(summary.message.contains("tests/test_roman.py::test_forty (candidate 1)"), "\(summary.message)")
        #expect(summary.message.contains("chose candidate 0 (passes all stated examples and 2 of 2 kept test(s))"), "\(summary.message)")
        let shown = try #require(AgentHarness.evidence(events))
        #expect(shown.verified && shown.kind == .redGreen, "\(shown.summary)")
        #expect(ws.read("roman.py") == Roman.right)
        let own = try #require(ws.read("tests/test_roman.py"))
        #expect(own.contains("def test_small") && !own.contains("test_hundred_fifty") && !own.contains("'LX'"), "\(own)")
        let other = try #require(ws.read("tests/test_roman_candidate1.py"))
        #expect(other.contains("def test_nine") && !other.contains("test_forty") && !other.contains("XXXX"), "\(other)")
        #expect(ws.read("test_doer_examples.py") == nil, "Doer's example file is its own, never applied")
    }

    @Test("code that fails a stated example is never chosen, however well it agrees with the model tests")
    func statedExampleDecides() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [
            // Candidate 0 is first on ties, and its tests pass on both codes.
            0: [reply(["roman.py": Roman.wrongOnStated, "tests/test_roman.py": Roman.tests([("small", 4, "IV"), ("nine", 9, "IX")])])],
            1: [reply(["roman.py": Roman.right, "tests/test_roman.py": Roman.tests([("ten", 10, "X"), ("forty", 40, "XXXX")])])],
        ])
        let (_, summary) = try await AgentHarness.run(model, task: Roman.stated, in: ws, candidates: 2, planning: .derived)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(summary.winner == 1, "\(summary.message)")
        #expect(summary.message.contains("chose candidate 1"), "\(summary.message)")
        #expect(ws.read("roman.py") == Roman.right)
        let theirs = try #require(ws.read("tests/test_roman_candidate0.py"))
        #expect(theirs.contains("def test_small") && theirs.contains("def test_nine"))
    }

    @Test("without stated examples there is no cross-check: the run fails as before and nothing is applied")
    func noStatedExamples() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [
            0: [reply(["roman.py": Roman.right, "tests/test_roman.py": Roman.testsWithWrong0])],
            1: [reply(["roman.py": Roman.alsoRight, "tests/test_roman.py": Roman.testsWithWrong1])],
        ])
        let (_, summary) = try await AgentHarness.run(model, task: Roman.unstated, in: ws, candidates: 2, planning: .derived)
        #expect(summary.outcome == .repeatedFailure, "\(summary.message)")
        #expect(!summary.applied && summary.winner == nil)
        #expect(!summary.message.contains("cross-checked"), "\(summary.message)")
        #expect(ws.read("roman.py") == nil)
    }

    @Test("every candidate's code wrong on a stated example: the run fails, nothing applied, the summary says why")
    func allWrongOnStated() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [
            0: [reply(["roman.py": Roman.wrongOnStated, "tests/test_roman.py": Roman.tests([("small", 4, "IV")])])],
            1: [reply(["roman.py": Roman.wrongOnStated.replacingOccurrences(of: "out = ''", with: "out = str()"),
                       "tests/test_roman.py": Roman.tests([("nine", 9, "IX")])])],
        ])
        let (_, summary) = try await AgentHarness.run(model, task: Roman.stated, in: ws, candidates: 2, planning: .derived)
        #expect(summary.outcome == .repeatedFailure, "\(summary.message)")
        #expect(!summary.applied && summary.winner == nil)
        #expect(summary.message.contains("cross-checked 2 candidate(s)"), "\(summary.message)")
        #expect(summary.message.contains("none passes every stated example and the workspace's own tests"), "\(summary.message)")
        #expect(ws.read("roman.py") == nil)
        #expect(ws.read("tests/test_roman.py") == nil)
    }

    @Test("the chosen code passes the workspace's own tests: a candidate that broke them is passed over")
    func workspaceTestsDecide() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [
            0: [reply(["roman.py": Roman.right, "util.py": "def double(n):\n    return n * 3\n",
                       "tests/test_roman.py": Roman.testsWithWrong0])],
            1: [reply(["roman.py": Roman.alsoRight, "tests/test_roman.py": Roman.testsWithWrong1])],
        ])
        let (_, summary) = try await AgentHarness.run(model, task: Roman.stated, in: ws, candidates: 2, planning: .derived)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(summary.winner == 1, "\(summary.message)")
        #expect(ws.read("roman.py") == Roman.alsoRight)
        #expect(ws.read("util.py") == project["util.py"])
    }

    @Test("a candidate that rewrote a workspace test to pass is judged against the test as it was")
    func editedWorkspaceTestJudgedAsItWas() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [
            0: [reply(["roman.py": Roman.right, "util.py": "def double(n):\n    return n * 3\n",
                       "tests/test_util.py": "from util import double\n\n\ndef test_double():\n    assert double(2) == 6\n",
                       "tests/test_roman.py": Roman.testsWithWrong0])],
            1: [reply(["roman.py": Roman.alsoRight, "tests/test_roman.py": Roman.testsWithWrong1])],
        ])
        let (_, summary) = try await AgentHarness.run(model, task: Roman.stated, in: ws, candidates: 2, planning: .derived)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(summary.winner == 1, "\(summary.message)")
        #expect(ws.read("util.py") == project["util.py"] && ws.read("tests/test_util.py") == project["tests/test_util.py"])
    }

    @Test("a lone candidate that broke the workspace's tests is not rescued")
    func loneCandidateBreakingWorkspaceTests() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [
            0: [reply(["roman.py": Roman.right, "util.py": "def double(n):\n    return n * 3\n",
                       "tests/test_roman.py": Roman.testsWithWrong0])],
        ])
        let (_, summary) = try await AgentHarness.run(model, task: Roman.stated, in: ws, candidates: 1, planning: .derived)
        #expect(summary.outcome == .repeatedFailure, "\(summary.message)")
        #expect(summary.message.contains("none passes every stated example"), "\(summary.message)")
        #expect(ws.read("roman.py") == nil && ws.read("util.py") == project["util.py"])
    }

    @Test("test methods and parametrized tests are cut by their lines; a class left without tests goes whole")
    func cutsClassesAndParameters() async throws {
        let ws = try AgentWorkspace(files: project)
        let classes = """
        from roman import to_roman


        class TestRoman:
            def test_small(self):
                assert to_roman(4) == 'IV'

            def test_wrong(self):
                assert to_roman(150) == 'LX'


        class TestOnlyWrong:
            @staticmethod
            def helper():
                return 1

            def test_big(self):
                assert to_roman(2000) == 'MMM'

        """
        let parametrized = """
        import pytest
        from roman import to_roman


        @pytest.mark.parametrize("n, expected", [(4, 'IV'), (40, 'XXXX')])
        def test_many(n, expected):
            assert to_roman(n) == expected


        def test_nine():
            assert to_roman(9) == 'IX'

        """
        let model = ScriptedModel(replies: [
            0: [reply(["roman.py": Roman.right, "tests/test_roman.py": classes])],
            1: [reply(["roman.py": Roman.alsoRight, "tests/test_numerals.py": parametrized])],
        ])
        let (_, summary) = try await AgentHarness.run(model, task: Roman.stated, in: ws, candidates: 2, planning: .derived)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(summary.message.contains("dropped 3 model-written test(s)"), "\(summary.message)")
        #expect(summary.message.contains("2 of 2 kept test(s)"), "\(summary.message)")
        let own = try #require(ws.read("tests/test_roman.py"))
        #expect(own.contains("class TestRoman") && own.contains("def test_small"), "\(own)")
        #expect(!own.contains("test_wrong") && !own.contains("'LX'"), "\(own)")
        // TestOnlyWrong keeps a helper, so only its test goes.
        #expect(own.contains("class TestOnlyWrong") && own.contains("def helper") && !own.contains("test_big"), "\(own)")
        let other = try #require(ws.read("tests/test_numerals_candidate1.py"))
        #expect(other.contains("def test_nine") && !other.contains("test_many") && !other.contains("parametrize"), "\(other)")
    }

    @Test("pytest's short summary is read per test function, parameters and reasons left out")
    func readsSummary() {
        let outcome = CrossCheck.outcome(of: """
        .F..F
        PASSED tests/test_a.py::test_ok
        PASSED tests/test_a.py::TestK::test_m
        PASSED tests/test_a.py::test_p[1]
        ERROR tests/test_b.py
        FAILED tests/test_a.py::test_bad - AssertionError: nope
        FAILED tests/test_a.py::test_p[a b] - AssertionError: assert 'a b' == 1
        2 failed, 3 passed, 1 error in 3.00s
        """)
        #expect(outcome.passes("tests/test_a.py::test_ok") && outcome.passes("tests/test_a.py::TestK::test_m"))
        #expect(!outcome.passes("tests/test_a.py::test_p"), "a function passes only when every case does")
        #expect(!outcome.passes("tests/test_a.py::test_bad"))
        #expect(outcome.failed.contains("tests/test_b.py"))
    }

    @Test("shared names stay names pytest collects")
    func sharedNames() {
        #expect(CrossCheck.renamed("tests/test_roman.py", suffix: "_candidate1") == "tests/test_roman_candidate1.py")
        #expect(CrossCheck.renamed("roman_test.py", suffix: "_candidate0") == "roman_candidate0_test.py")
        #expect(CrossCheck.removing(lines: [2...3], from: "a\nb\nc\nd") == "a\nd")
    }
}
