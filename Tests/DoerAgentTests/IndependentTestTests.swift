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
private let task = "spread in stats.py is wrong: it should be the largest value minus the smallest; fix it"
private let fixedStats = project["stats.py"]!.replacingOccurrences(of: "max(values) - max(values)", with: "max(values) - min(values)")
private let rightTest = "from stats import spread\n\n\ndef test_spread():\n    assert spread([1, 5, 3]) == 4\n"
/// One wrong reading in both the code and the model's own test: red before, green after.
private let offByOne = project["stats.py"]!.replacingOccurrences(of: "max(values) - max(values)", with: "max(values) - min(values) + 1")
private let offByOneTest = "from stats import spread\n\n\ndef test_spread():\n    assert spread([1, 5, 3]) == 5\n"

/// A pass shown only by tests the model wrote beside its code must also pass a test of the
/// request written apart from the code.
@Suite("a pass only the model's own tests show needs a test written apart from the code")
struct IndependentTestTests {
    private func writerRequests(_ model: ScriptedModel) -> [String] {
        model.recordedRequests.filter { $0.messages.first?.content == PromptBuilder.independentTestSystem }
            .map { $0.messages.map(\.content).joined(separator: "\n") }
    }


    @Test("code and its own test agree on a wrong reading; the test written apart disagrees: the model is told, fixes the code, verified")
    func disagreementIsMended() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [
            0: [Replies.files(["stats.py": offByOne, "test_spread.py": offByOneTest]),
                Replies.files(["stats.py": fixedStats, "test_spread.py": rightTest])],
            Replies.independentWriter: [Replies.spreadCheck],
        ])
        let (events, summary) = try await AgentHarness.run(model, task: task, in: ws, approval: .never)
        let told = model.recordedRequests.contains { request in
            request.messages.last?.content.contains("a test of the request written apart from your code") ?? false
                && request.messages.last?.content.contains("assert 8 == 7") ?? false
        }
        #expect(told, "the second turn shows the failing assertion of the test written apart")
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(summary.applied && ws.read("stats.py") == fixedStats)
        #expect(AgentHarness.evidence(events)?.sources == [.modelTests, .independentTest])
        #expect(writerRequests(model).count == 1, "one test, written once, judged both passes")
    }

    @Test("the model keeps its wrong reading: unverified, with the failing assertion, and nothing applied")
    func disagreementStands() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": offByOne, "test_spread.py": offByOneTest])],
                                            Replies.independentWriter: [Replies.spreadCheck]])
        let (events, summary) = try await AgentHarness.run(model, task: task, in: ws, approval: .never)
        #expect(summary.outcome == .unverified, "\(summary.message)")
        #expect(summary.message.contains("written apart from the code fails with the change"), "\(summary.message)")
        #expect(!summary.applied && ws.read("stats.py") == project["stats.py"] && ws.read("test_spread.py") == nil)
        let found = try #require(AgentHarness.evidence(events))
        #expect(!found.verified && found.kind == .none)
    }

    @Test("the writer sees the request and the code as it was, never a candidate's change")
    func writerSeesTheOldCode() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": fixedStats, "test_spread.py": rightTest])],
                                            Replies.independentWriter: [Replies.spreadCheck]])
        let (_, summary) = try await AgentHarness.run(model, task: task, in: ws, approval: .never)
        #expect(summary.outcome == .passed, "\(summary.message)")
        let prompt = try #require(writerRequests(model).first)
        #expect(prompt.contains(task))
        #expect(prompt.contains("max(values) - max(values)"), "the code as it was")
        #expect(!prompt.contains("max(values) - min(values)") && !prompt.contains("spread([1, 5, 3])"),
                "neither the candidate's code nor its test")
        #expect(prompt.contains("from stats import mean"), "the project's tests' imports, to import the code the same way")
    }

    @Test("a test that passes on the old code shows nothing: asked again once, with why; the second one decides")
    func greenBeforeIsAskedAgain() async throws {
        let ws = try AgentWorkspace(files: project)
        let hollow = Replies.files(["test_spread_check.py": "from stats import mean\n\n\ndef test_mean():\n    assert mean([2, 4]) == 3\n"])
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": fixedStats, "test_spread.py": rightTest])],
                                            Replies.independentWriter: [hollow, Replies.spreadCheck]])
        let (_, summary) = try await AgentHarness.run(model, task: task, in: ws, approval: .never)
        #expect(summary.outcome == .passed, "\(summary.message)")
        let prompts = writerRequests(model)
        #expect(prompts.count == 2)
        #expect(prompts.last?.contains("every test passed on the code as it is now") == true)
    }

    @Test("no usable test after two tries (prose, then a file that does not import): unverified, never applied unattended")
    func noUsableTest() async throws {
        let ws = try AgentWorkspace(files: project)
        let broken = Replies.files(["test_spread_check.py": "from statistics_of_nothing import spread\n\n\ndef test_it():\n    assert spread([2, 9, 4]) == 7\n"])
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": fixedStats, "test_spread.py": rightTest])],
                                            Replies.independentWriter: ["I would test it by hand.", broken]])
        let (_, summary) = try await AgentHarness.run(model, task: task, in: ws, approval: .never)
        #expect(summary.outcome == .unverified, "\(summary.message)")
        #expect(summary.message.contains("no test of the request written apart from the code could confirm it"), "\(summary.message)")
        #expect(summary.message.contains("did not run"), "\(summary.message)")
        #expect(writerRequests(model).count == IndependentTest.attempts)
        #expect(!summary.applied && ws.read("stats.py") == project["stats.py"])
    }

    @Test("a test the model adds to the project's own test file is the model's: it needs the test written apart too")
    func addedToTheProjectsFile() async throws {
        let ws = try AgentWorkspace(files: project)
        let extended = project["test_stats.py"]! + "\n\ndef test_spread():\n    assert spread([1, 5, 3]) == 4\n"
        let withImport = extended.replacingOccurrences(of: "from stats import mean", with: "from stats import mean, spread")
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": offByOne, "test_stats.py": withImport.replacingOccurrences(of: "== 4", with: "== 5")])],
                                            Replies.independentWriter: [Replies.spreadCheck]])
        let (events, summary) = try await AgentHarness.run(model, task: task, in: ws, approval: .never)
        #expect(writerRequests(model).count == 1)
        #expect(summary.outcome == .unverified, "\(summary.message)")
        #expect(!summary.applied && ws.read("stats.py") == project["stats.py"])
        #expect(AgentHarness.evidence(events)?.verified == false)
    }

    @Test("a conftest.py the candidate added is not the judge's: a hook that passes every test does not pass the test written apart")
    func candidatesConftestIsNotTheJudges() async throws {
        let ws = try AgentWorkspace(files: project)
        // Reports every test as passed, whatever it asserted.
        let rigged = "import pytest\n\n\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
            + "    outcome = yield\n    report = outcome.get_result()\n    if 'check' in item.nodeid:\n        report.outcome = 'passed'\n"
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": offByOne, "test_spread.py": offByOneTest, "conftest.py": rigged])],
                                            Replies.independentWriter: [Replies.spreadCheck]])
        let (_, summary) = try await AgentHarness.run(model, task: task, in: ws, approval: .never)
        #expect(summary.outcome == .unverified, "\(summary.message)")
        #expect(!summary.applied && ws.read("conftest.py") == nil)
    }

    @Test("told the test written apart's failing assertion, a candidate that writes its values into the code is not verified")
    func specialCasedValuesAreCaught() async throws {
        let ws = try AgentWorkspace(files: project)
        let check = Replies.files(["test_spread_check.py": "from stats import spread\n\n\ndef test_spread():\n    assert spread([12, 90, 45]) == 78\n"])
        let gamed = offByOne.replacingOccurrences(of: "def spread(values):\n", with: "def spread(values):\n    if values == [12, 90, 45]:\n        return 78\n")
        let model = ScriptedModel(replies: [
            0: [Replies.files(["stats.py": offByOne, "test_spread.py": offByOneTest]),
                Replies.files(["stats.py": gamed, "test_spread.py": offByOneTest])],
            Replies.independentWriter: [check],
        ])
        let (_, summary) = try await AgentHarness.run(model, task: task, in: ws, maxIterations: 3, approval: .never)
        #expect(summary.outcome == .unverified, "\(summary.message)")
        #expect(summary.message.contains("writing its values into the code"), "\(summary.message)")
        #expect(!summary.applied && ws.read("stats.py") == project["stats.py"])
    }

    @Test("evidence the user or the project gave needs no second reading: no test is written apart")
    func statedExampleNeedsNone() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": fixedStats, "test_spread.py": rightTest])]])
        let (events, summary) = try await AgentHarness.run(model, task: task + "; for example spread([2, 9, 4]) == 7", in: ws, approval: .never)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(AgentHarness.evidence(events)?.sources?.contains(.requestExamples) == true)
        #expect(writerRequests(model).isEmpty)
    }

    @Test("an empty workspace: code and its own tests skip a rule the request states; the test written apart tries it; mended, verified")
    func emptyWorkspaceRuleIsChecked() async throws {
        let ws = try AgentWorkspace()
        let model = ScriptedModel(replies: [
            0: [Replies.files(["wordcount.py": Greenfield.firstSeen, "test_wordcount.py": Greenfield.ownTest]),
                Replies.files(["wordcount.py": Greenfield.alphabetical, "test_wordcount.py": Greenfield.ownTest])],
            Replies.independentWriter: [Greenfield.tieCheck],
        ])
        let (events, summary) = try await AgentHarness.run(model, task: Greenfield.task, in: ws, approval: .never)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(ws.read("wordcount.py") == Greenfield.alphabetical)
        #expect(AgentHarness.evidence(events)?.sources == [.modelTests, .independentTest])
        let prompt = try #require(writerRequests(model).first)
        #expect(prompt.contains("There is no code yet") && prompt.contains("a new file wordcount.py defining `top_words` (import it as `wordcount`)"),
                "\(prompt)")
        #expect(!prompt.contains("Counter") && !prompt.contains("def test_counts"), "neither the candidate's code nor its test")
    }

    @Test("an empty workspace: the candidate keeps code that breaks the stated rule: unverified, nothing written")
    func emptyWorkspaceDisagreementStands() async throws {
        let ws = try AgentWorkspace()
        let model = ScriptedModel(replies: [0: [Replies.files(["wordcount.py": Greenfield.firstSeen, "test_wordcount.py": Greenfield.ownTest])],
                                            Replies.independentWriter: [Greenfield.tieCheck]])
        let (_, summary) = try await AgentHarness.run(model, task: Greenfield.task, in: ws, approval: .never)
        #expect(summary.outcome == .unverified, "\(summary.message)")
        #expect(!summary.applied && ws.read("wordcount.py") == nil && ws.read("test_wordcount.py") == nil)
    }

    @Test("a test that failed only to import, in an empty workspace, counts as the model's")
    func importErrorIsTheModels() async throws {
        let ws = try AgentWorkspace()
        let model = ScriptedModel(replies: [0: [Replies.files(["wordcount.py": Greenfield.alphabetical, "test_wordcount.py": Greenfield.ownTest])],
                                            Replies.independentWriter: [Greenfield.tieCheck]])
        let (events, summary) = try await AgentHarness.run(model, task: Greenfield.task, in: ws, approval: .never)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(AgentHarness.evidence(events)?.sources == [.modelTests, .independentTest])
        #expect(writerRequests(model).count == 1)
    }

    @Test("a reply's test file is the block for the path, else its one Python file, else none")
    func parsing() {
        let path = "tests/test_request_check.py"
        #expect(IndependentTest.testFile(in: "```file \(path)\ndef test_a():\n    assert 1\n```", path: path) == "def test_a():\n    assert 1\n")
        #expect(IndependentTest.testFile(in: "```python\ndef test_a():\n    assert 1\n```", path: path) == "def test_a():\n    assert 1\n")
        #expect(IndependentTest.testFile(in: "```file other.py\ndef test_b():\n    pass\n```", path: path) == "def test_b():\n    pass\n")
        #expect(IndependentTest.testFile(in: "```python\nx = 1\n```", path: path) == nil, "no test function")
        #expect(IndependentTest.testFile(in: "I cannot.", path: path) == nil)
        #expect(IndependentTest.path(in: "tests", avoiding: ["tests/test_request_check.py"]) == "tests/test_request_check_2.py")
        #expect(IndependentTest.path(in: "", avoiding: []) == "test_request_check.py")
    }
}

/// "Create X … Add tests." in an empty workspace, with a rule the first code skips.
private enum Greenfield {
    static let task = "Create wordcount.py with top_words(text, n) that returns the n most frequent words of text as a list of "
        + "(word, count) tuples, most frequent first. Words with the same count come in alphabetical order. Add tests."
    /// Ties in the order first seen: the rule skipped.
    static let firstSeen = "from collections import Counter\n\n\ndef top_words(text, n):\n    return Counter(text.split()).most_common(n)\n"
    static let alphabetical = "from collections import Counter\n\n\ndef top_words(text, n):\n"
        + "    return sorted(Counter(text.split()).items(), key=lambda item: (-item[1], item[0]))[:n]\n"
    /// Never tries a tie, so both codes pass it.
    static let ownTest = "from wordcount import top_words\n\n\ndef test_counts():\n    assert top_words('b a b', 1) == [('b', 2)]\n"
    static let tieCheck = Replies.files(["test_request_check.py": "from wordcount import top_words\n\n\ndef test_ties():\n"
        + "    assert top_words('pear fig apple fig pear apple', 3) == [('apple', 2), ('fig', 2), ('pear', 2)]\n"])
}
