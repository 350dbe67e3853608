import DoerCore
import DoerSandbox
@testable import DoerAgent
import Foundation
import Testing

/// A project whose own tests pass before any change, with a bug the request reports.
private let project: [String: String] = [
    "stats.py": "def mean(values):\n    return sum(values) / len(values)\n\n\ndef spread(values):\n    return max(values) - max(values)\n",
    "test_stats.py": "from stats import mean\n\n\ndef test_mean():\n    assert mean([1, 2, 3]) == 2\n",
]
private let fixedStats = "def mean(values):\n    return sum(values) / len(values)\n\n\ndef spread(values):\n    return max(values) - min(values)\n"
private let spreadTest = "from stats import spread\n\n\ndef test_spread():\n    assert spread([1, 5, 3]) == 4\n"
private let task = "spread in stats.py is wrong: it should be the largest value minus the smallest; fix it"

/// Passing tests end a candidate's loop only with evidence: a pass that shows nothing is sent
/// back to the model, which can still make the change or the test that shows it.
@Suite("a pass that shows nothing goes back to the model")
struct HollowPassTests {
    private func asked(_ model: ScriptedModel, _ text: String) -> Bool {
        model.recordedRequests.contains { $0.messages.last?.content.contains(text) ?? false }
    }

    @Test("tests alone pass: the model is told the code is unchanged, fixes it on the next turn, and the run is verified")
    func onlyTestsThenCode() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [0: [
            Replies.files(["test_more.py": "from stats import mean\n\n\ndef test_two():\n    assert mean([2, 4]) == 3\n"]),
            Replies.files(["stats.py": fixedStats, "test_spread.py": spreadTest]),
        ], Replies.independentWriter: [Replies.spreadCheck]])
        let (events, summary) = try await AgentHarness.run(model, task: task, in: ws, approval: .never)
        #expect(asked(model, "you changed only tests"), "the second turn says why the pass did not count")
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(summary.applied && ws.read("stats.py") == fixedStats)
        let evidence = try #require(events.compactMap { if case .evidence(let e) = $0 { e } else { nil } }.last)
        #expect(evidence.verified && evidence.failedBefore == ["test_spread.py::test_spread"], "\(evidence.failedBefore)")
    }

    @Test("a fix no test shows: the model is asked for a test that fails before it, writes one, and the run is verified")
    func greenBeforeThenRedTest() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [0: [
            Replies.files(["stats.py": fixedStats]),
            Replies.files(["stats.py": fixedStats, "test_spread.py": spreadTest]),
        ], Replies.independentWriter: [Replies.spreadCheck]])
        let (_, summary) = try await AgentHarness.run(model, task: task, in: ws, approval: .never)
        #expect(asked(model, "passed before your change too"))
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(summary.applied)
    }

    @Test("told once, the same hollow pass again: the run ends unverified, with the reason, and nothing is applied")
    func repeatedHollowPassStandsUnverified() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": fixedStats])]])
        let (_, summary) = try await AgentHarness.run(model, task: task, in: ws, maxIterations: 4, approval: .never)
        #expect(summary.outcome == .unverified, "\(summary.message)")
        #expect(summary.message.contains("pass on the workspace as it was too"), "\(summary.message)")
        #expect(model.recordedRequests.count == 2, "one turn to mend it, not the whole iteration limit")
        #expect(!summary.applied && ws.read("stats.py") == project["stats.py"])
    }

    @Test("of two candidates, the one that shows the request done wins over one that passed first without evidence")
    func provenCandidateWins() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [
            0: [Replies.files(["test_more.py": "from stats import mean\n\n\ndef test_two():\n    assert mean([2, 4]) == 3\n"])],
            1: [Replies.files(["stats.py": fixedStats, "test_spread.py": spreadTest])],
            Replies.independentWriter: [Replies.spreadCheck],
        ])
        let (_, summary) = try await AgentHarness.run(model, task: task, in: ws, candidates: 2, approval: .never)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(summary.applied && ws.read("stats.py") == fixedStats && ws.read("test_more.py") == nil)
    }

    @Test("a project that sets testpaths still runs the test the model adds at the top level: red before, green after")
    func testpathsDoNotHideTheModelsTest() async throws {
        let ws = try AgentWorkspace(files: [
            "pyproject.toml": "[project]\nname = \"stats\"\n\n[tool.pytest.ini_options]\ntestpaths = [\"tests\"]\n",
            "stats.py": project["stats.py"]!,
            "tests/test_stats.py": project["test_stats.py"]!,
        ])
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": fixedStats, "test_spread.py": spreadTest])],
                                            Replies.independentWriter: [Replies.spreadCheck]])
        let (events, summary) = try await AgentHarness.run(model, task: task, in: ws, approval: .never)
        #expect(summary.outcome == .passed, "\(summary.message)")
        let evidence = try #require(events.compactMap { if case .evidence(let e) = $0 { e } else { nil } }.last)
        #expect(evidence.failedBefore == ["test_spread.py::test_spread"], "\(evidence.summary)")
        #expect(events.contains { if case .executionStarted(_, let command) = $0 { command.hasSuffix(" tests test_spread.py") } else { false } })
    }
}

/// The request is about `spread`; the model invents `spread_range` and tests only that.
private let inventedHelper = project["stats.py"]! + "\n\nimport math\n\n_EMPTY = math.nan\n\n\ndef spread_range(values):\n    return max(values) - min(values) if values else _EMPTY\n"
private let inventedTest = "from stats import spread_range\n\n\ndef test_spread_range():\n    assert spread_range([1, 5, 3]) == 4\n"

@Suite("a test of a name the change invented is no evidence")
struct InventedNameTests {
    @Test("a new helper and a test of it, the reported function still wrong: red only for the missing name, so unverified, and the model is told")
    func inventedHelperIsNotEvidence() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": inventedHelper, "test_spread_range.py": inventedTest])]])
        let (_, summary) = try await AgentHarness.run(model, task: task, in: ws, maxIterations: 4, approval: .never)
        #expect(summary.outcome == .unverified, "\(summary.message)")
        #expect(summary.message.contains("spread_range"), "\(summary.message)")
        #expect(model.recordedRequests.contains { $0.messages.last?.content.contains("did not exist") ?? false })
        #expect(!summary.applied && ws.read("stats.py") == project["stats.py"])
    }

    @Test("told, the model fixes the reported function through its helper and tests that: verified")
    func fixThroughHelperIsEvidence() async throws {
        let ws = try AgentWorkspace(files: project)
        let fixed = inventedHelper.replacingOccurrences(of: "return max(values) - max(values)", with: "return spread_range(values)")
        let model = ScriptedModel(replies: [0: [
            Replies.files(["stats.py": inventedHelper, "test_spread_range.py": inventedTest]),
            Replies.files(["stats.py": fixed, "test_spread.py": spreadTest]),
        ], Replies.independentWriter: [Replies.spreadCheck]])
        let (events, summary) = try await AgentHarness.run(model, task: task, in: ws, maxIterations: 4, approval: .never)
        #expect(summary.outcome == .passed, "\(summary.message)")
        let evidence = try #require(events.compactMap { if case .evidence(let e) = $0 { e } else { nil } }.last)
        #expect(evidence.verified && evidence.failedBefore == ["test_spread.py::test_spread"], "\(evidence.summary)")
        #expect(summary.applied && ws.read("stats.py") == fixed)
    }

    @Test("a new method on the class the request is about, and a test of it: unverified, the old method still wrong")
    func inventedMethodIsNotEvidence() async throws {
        let klass = "class Stats:\n    def __init__(self, values):\n        self.values = values\n\n    def spread(self):\n        return max(self.values) - max(self.values)\n"
        let ws = try AgentWorkspace(files: ["stats.py": klass, "test_stats.py": "from stats import Stats\n\n\ndef test_values():\n    assert Stats([1]).values == [1]\n"])
        let invented = klass + "\n    def spread_range(self):\n        return max(self.values) - min(self.values)\n"
        let test = "from stats import Stats\n\n\ndef test_range():\n    assert Stats([1, 5, 3]).spread_range() == 4\n"
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": invented, "test_spread_range.py": test])]])
        let (_, summary) = try await AgentHarness.run(model, task: "Stats.spread gives 0 for [1, 5, 3]; it should be the largest value minus the smallest",
                                                      in: ws, maxIterations: 4, approval: .never)
        #expect(summary.outcome == .unverified, "\(summary.message)")
        #expect(summary.message.contains("Stats.spread_range"), "\(summary.message)")
        #expect(!summary.applied && ws.read("stats.py") == klass)
    }

    @Test("a request for new code keeps its new function's test as evidence, with a test written apart that is told the new name")
    func requestedNewFunctionCounts() async throws {
        let ws = try AgentWorkspace(files: project)
        let check = Replies.files(["test_request_check.py": "from stats import spread_range\n\n\ndef test_range():\n    assert spread_range([2, 9, 4]) == 7\n"])
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": inventedHelper, "test_spread_range.py": inventedTest])],
                                            Replies.independentWriter: [check]])
        let (_, summary) = try await AgentHarness.run(model, task: "add to stats.py a function giving the range of the values",
                                                      in: ws, approval: .never)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(summary.applied)
        let prompt = try #require(model.recordedRequests.first { $0.messages.first?.content == PromptBuilder.independentTestSystem })
        let asked = prompt.messages.map(\.content).joined(separator: "\n")
        #expect(asked.contains("stats.py, which now also has `spread_range` (import it as `stats`)"), "\(asked)")
        #expect(!asked.contains("min(values)"), "the name, never the code")
    }

    @Test("what is carried: new functions and classes the request does not name, with the imports and constants they add")
    func carried() throws {
        let old = "import os\n\nLIMIT = 3\n\n\ndef spread(values):\n    return 0\n"
        let new = "import os\nimport re\n\nLIMIT = 4\n_WORD = re.compile(r'\\w+')\n\n\n@staticmethod\ndef words(text):\n    return _WORD.findall(text)\n\n\n"
            + "def spread(values):\n    return 1\n\n\nclass Counter:\n    pass\n\n\ndef to_celsius(f):\n    return f\n"
        let carried = try #require(AddedDefinitions.carried(old: old, new: new, task: "spread is wrong, and to celsius too"))
        #expect(carried.names == ["words", "Counter"])
        #expect(carried.text.hasPrefix(old))
        let tail = String(carried.text.dropFirst(old.count))
        #expect(tail.contains("import re\n") && tail.contains("_WORD = re.compile") && tail.contains("@staticmethod\ndef words(text):"))
        #expect(!tail.contains("LIMIT = 4"), "a constant the old file has keeps its old value")
        #expect(!tail.contains("def spread") && !tail.contains("to_celsius"))
        #expect(AddedDefinitions.carried(old: old, new: old, task: "fix spread") == nil)
        #expect(AddedDefinitions.carried(old: old, new: new, task: "add a words helper and fix spread") == nil)
        #expect(AddedDefinitions.carried(old: old, new: "def broken(:\n    '''\n", task: "fix spread") == nil)
    }

    @Test("what is carried into a class: the methods it gains that the request does not name, at the old class's indentation")
    func carriedMethods() throws {
        let old = "@dataclass\nclass Stats(\n    Base,\n):\n  values: list\n\n  def spread(self):\n    return 0\n\n\nclass Other:\n  pass\n"
        let new = "@dataclass\nclass Stats(\n    Base,\n):\n    values: list\n\n    def spread(self):\n        return 1\n\n"
            + "    @property\n    def spread_fixed(self):\n        \"\"\"The range.\nSee spread.\"\"\"\n        return max(self.values) - min(self.values)\n\n"
            + "    def median(self):\n        return 2\n\n\nclass Other:\n    pass\n"
        let carried = try #require(AddedDefinitions.carried(old: old, new: new, task: "Stats.spread is wrong; median too"))
        #expect(carried.names == ["Stats.spread_fixed"])
        #expect(carried.text == "@dataclass\nclass Stats(\n    Base,\n):\n  values: list\n\n  def spread(self):\n    return 0\n"
                + "\n  @property\n  def spread_fixed(self):\n      \"\"\"The range.\nSee spread.\"\"\"\n      return max(self.values) - min(self.values)\n"
                + "\n\nclass Other:\n  pass\n", "\(carried.text)")
        // A class on a single line is left as it is.
        #expect(AddedDefinitions.carried(old: "class A: pass\n", new: "class A:\n    def b(self):\n        pass\n", task: "fix A") == nil)
    }
}

@Suite("what pytest is told to collect")
struct PytestTargetsTests {
    private func reader(_ files: [String: String]) -> (String) -> String? { { files[$0] } }

    @Test("testpaths is read from the file pytest takes it from, in pytest's order")
    func readsTestpaths() {
        #expect(PytestTargets.testpaths(read: reader(["pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = [\n  \"tests\",\n  './more/'\n]\n"])) == ["tests", "more"])
        #expect(PytestTargets.testpaths(read: reader(["setup.cfg": "[metadata]\nname = x\n[tool:pytest]\ntestpaths =\n    tests\n    docs\naddopts = -q\n"])) == ["tests", "docs"])
        #expect(PytestTargets.testpaths(read: reader(["tox.ini": "[tox]\nenvlist = py3\n[pytest]\ntestpaths = src/tests\n"])) == ["src/tests"])
        // pytest.ini wins even with no testpaths in it; a pyproject without the section does not count.
        #expect(PytestTargets.testpaths(read: reader(["pytest.ini": "[pytest]\naddopts = -q\n", "setup.cfg": "[tool:pytest]\ntestpaths = tests\n"])) == [])
        #expect(PytestTargets.testpaths(read: reader(["pyproject.toml": "[project]\nname = \"x\"\n", "setup.cfg": "[tool:pytest]\ntestpaths = t\n"])) == ["t"])
        #expect(PytestTargets.testpaths(read: reader([:])) == nil)
        // A path that climbs out or a glob is not put on the command line.
        #expect(PytestTargets.testpaths(read: reader(["tox.ini": "[pytest]\ntestpaths = ../up tests/* ok\n"])) == ["ok"])
    }

    @Test("only a test file outside testpaths changes the command, and then the folders are named too")
    func arguments() {
        let config = ["pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = [\"tests\", \"gone\"]\n"]
        #expect(PytestTargets.arguments(files: ["pyproject.toml", "tests/test_a.py", "a.py"], read: reader(config)).isEmpty)
        #expect(PytestTargets.arguments(files: ["pyproject.toml", "tests/test_a.py", "test_new.py", "pkg/b_test.py"], read: reader(config))
                == ["tests", "test_new.py", "pkg/b_test.py"])
        #expect(PytestTargets.arguments(files: ["test_new.py"], read: reader([:])).isEmpty, "without testpaths pytest finds it itself")
    }
}
