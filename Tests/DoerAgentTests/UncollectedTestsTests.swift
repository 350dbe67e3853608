import DoerCore
@testable import DoerAgent
import Foundation
import Testing

/// A project whose tests are unittest cases in `src/calc/tests.py`, a name pytest's own
/// collection skips: the layout of zope's packages and of Django apps.
private enum Calc {
    static let code = """
        def add(a, b):
            return a + b + 1


        def mul(a, b):
            return a * b
        """
    static let tests = """
        import unittest

        import calc


        class CalcTests(unittest.TestCase):
            def test_mul(self):
                self.assertEqual(calc.mul(3, 4), 12)

            def test_mul_zero(self):
                self.assertEqual(calc.mul(0, 9), 0)
        """
    static let files = ["src/calc/__init__.py": code, "src/calc/tests.py": tests, "setup.py": "from setuptools import setup\nsetup(name='calc')\n"]
    static let task = "`calc.add(2, 3)` returns 6, but it should return 5."
    static let fixedAdd = "def add(a, b):\n    return a + b\n"
}

@Suite("the project's tests that pytest does not collect by itself")
struct UncollectedTestsTests {
    @Test("tests.py, test.py and modules under a tests folder holding TestCases or test functions are found; helpers are not")
    func finds() {
        let files: [String: String] = [
            "src/roman/tests.py": "import unittest\nclass T(unittest.TestCase):\n    def test_a(self): pass\n",
            "tests/checks.py": "def test_round_trip():\n    assert True\n",
            "tests/helpers.py": "def make():\n    return 1\n",
            "tests/conftest.py": "def test_not_a_test_file(): pass\n",
            "test_a.py": "def test_a():\n    pass\n",
            "pkg/core.py": "def test_mode():\n    return 1\n",
            "pkg/test.py": "from unittest import TestCase\n\nclass Smoke(TestCase):\n    pass\n",
            ".tox/lib/tests.py": "def test_x(): pass\n",
        ]
        let found = UncollectedTests.find(files: Array(files.keys), read: { files[$0] })
        #expect(found == ["pkg/test.py", "src/roman/tests.py", "tests/checks.py"])
    }

    @Test("the strategy names them on pytest's command line, with the test folders, also when the request states no example")
    func strategyRunsThem() {
        let files = ["src/calc/__init__.py", "src/calc/tests.py", "tests/test_other.py"]
        let stated = TestStrategy.choose(files: files, task: Calc.task, uncollected: ["src/calc/tests.py"])
        #expect(stated.command.suffix(3) == ["test_doer_examples.py", "tests", "src/calc/tests.py"], "\(stated.command)")
        let plain = TestStrategy.choose(files: files, task: "make add faster", uncollected: ["src/calc/tests.py"])
        #expect(plain.generatedFiles.isEmpty)
        #expect(plain.command.suffix(2) == ["tests", "src/calc/tests.py"], "\(plain.command)")
        #expect(plain.hasTests(files))
        // Without any, the command is pytest's own collection, as before.
        #expect(TestStrategy.choose(files: ["a.py", "test_a.py"], task: "make add faster").command.last == "-x")
    }

    @Test("tests.py and its kin are tests to the evidence too: an edit to them is an edit to the user's tests")
    func namedAsTests() {
        for path in ["src/calc/tests.py", "test.py", "pkg/tests_io.py", "pkg/io_tests.py"] { #expect(TestFiles.isTest(path), "\(path)") }
        for path in ["src/calc/testing_utils.py", "contest.py", "latest.py"] { #expect(!TestFiles.isTest(path), "\(path)") }
    }

    @Test("a fix of the request that breaks what src/calc/tests.py checks is not a success, and nothing is applied")
    func breakingThemFails() async throws {
        let ws = try AgentWorkspace(files: Calc.files)
        let broken = Calc.fixedAdd + "\n\ndef mul(a, b):\n    return a + b\n"
        let model = ScriptedModel(replies: [0: [Replies.files(["src/calc/__init__.py": broken]),
                                                Replies.files(["src/calc/__init__.py": broken])]])
        let (events, summary) = try await AgentHarness.run(model, task: Calc.task, in: ws, maxIterations: 2)
        #expect(summary.outcome != .passed, "\(summary.message)")
        #expect(!events.contains { if case .changesApplied = $0 { true } else { false } })
        let command = try #require(AgentHarness.reports(events).first?.command)
        #expect(command.contains("src/calc/tests.py"), "\(command)")
        #expect(AgentHarness.reports(events).first?.failed == 2)
        #expect(try String(contentsOf: ws.url.appendingPathComponent("src/calc/__init__.py"), encoding: .utf8) == Calc.code)
    }

    @Test("one of them that fails before any change for the machine's reasons (no network) is left out, and the fix passes")
    func theirMachineFailuresLeftOut() async throws {
        var files = Calc.files
        files["src/calc/tests.py"] = Calc.tests + """


            class NetworkTests(unittest.TestCase):
                def test_fetch(self):
                    import socket
                    socket.create_connection(('192.0.2.1', 80), timeout=1)
            """
        let ws = try AgentWorkspace(files: files)
        let model = ScriptedModel(replies: [0: [Replies.files(["src/calc/__init__.py": Calc.fixedAdd + "\n\ndef mul(a, b):\n    return a * b\n"])]])
        let (events, summary) = try await AgentHarness.run(model, task: Calc.task, in: ws, maxIterations: 2)
        #expect(summary.outcome == .passed, "\(summary.message)")
        let plan = events.compactMap { if case .plan(let plan) = $0 { return plan.testStrategy } else { return nil } }
        #expect(plan.contains { $0.contains("src/calc/tests.py::NetworkTests::test_fetch") }, "\(plan)")
    }

    @Test("the same fix without the breakage passes, red to green on the stated example, with those tests run")
    func keepingThemPasses() async throws {
        let ws = try AgentWorkspace(files: Calc.files)
        let model = ScriptedModel(replies: [0: [Replies.files(["src/calc/__init__.py": Calc.fixedAdd + "\n\ndef mul(a, b):\n    return a * b\n"])]])
        let (events, summary) = try await AgentHarness.run(model, task: Calc.task, in: ws, maxIterations: 2)
        #expect(summary.outcome == .passed, "\(summary.message)")
        let report = try #require(AgentHarness.reports(events).last)
        #expect(report.passed == 3 && report.failed == 0, "\(report)")
    }
}
