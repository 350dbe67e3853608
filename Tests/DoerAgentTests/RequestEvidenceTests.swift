import DoerCore
@testable import DoerAgent
import Foundation
import Testing

/// A small project whose own tests pass before any change: the situation in which "the
/// tests pass" says nothing about the request.
private let project: [String: String] = [
    "stats.py": "def mean(values):\n    return sum(values) / len(values)\n\n\ndef spread(values):\n    return max(values) - max(values)\n",
    "test_stats.py": "from stats import mean\n\n\ndef test_mean():\n    assert mean([1, 2, 3]) == 2\n",
]
private let fixedStats = "def mean(values):\n    return sum(values) / len(values)\n\n\ndef spread(values):\n    return max(values) - min(values)\n"

@Suite("passed means the request was shown to be done")
struct RequestEvidenceTests {
    /// A bug report without a value Doer could turn into a test itself.
    static let task = "spread in stats.py is wrong: it should be the largest value minus the smallest; fix it"
    /// The same report with the values stated.
    static let statedTask = "spread([1, 5, 3]) returns 0 but it should be 4; fix spread in stats.py"

    @Test("a trivial new file and its test beside a project whose suite already passes is unverified, not applied, not passed")
    func unaskedAdditions() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [0: [Replies.files([
            "hello.py": "def hello():\n    return 'hi'\n",
            "test_hello.py": "from hello import hello\n\n\ndef test_hello():\n    assert hello() == 'hi'\n",
        ])]])
        let (_, summary) = try await AgentHarness.run(model, task: Self.task, in: ws, approval: .never)
        #expect(summary.outcome == .unverified, "\(summary.message)")
        #expect(!summary.applied)
        #expect(summary.message.contains("UNVERIFIED") && summary.message.contains("hello.py"), "\(summary.message)")
        #expect(ws.read("hello.py") == nil, "an unverified change is never applied unattended")
    }

    @Test("a cosmetic edit plus an unasked new file whose test fails only because that file is missing is unverified")
    func unaskedFileBesideCosmeticEdit() async throws {
        let ws = try AgentWorkspace(files: project)
        let cosmetic = project["stats.py"]!.replacingOccurrences(of: "def mean(values):", with: "def mean(values):  # average")
        let model = ScriptedModel(replies: [0: [Replies.files([
            "stats.py": cosmetic,
            "hello.py": "def hello():\n    return 'hi'\n",
            "test_hello.py": "from hello import hello\n\n\ndef test_hello():\n    assert hello() == 'hi'\n",
        ])]])
        let (_, summary) = try await AgentHarness.run(model, task: Self.task, in: ws, approval: .never)
        #expect(summary.outcome == .unverified, "\(summary.message)")
        #expect(ws.read("hello.py") == nil)
    }

    @Test("a code change that no test shows to be needed is unverified")
    func noRedTest() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": fixedStats])]])
        let (_, summary) = try await AgentHarness.run(model, task: Self.task, in: ws, approval: .never)
        #expect(summary.outcome == .unverified, "\(summary.message)")
        #expect(summary.message.contains("pass on the workspace as it was too"), "\(summary.message)")
        #expect(ws.read("stats.py") == project["stats.py"])
    }

    @Test("a test that fails before the change and passes after is the evidence: passed and applied")
    func redThenGreen() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [0: [Replies.files([
            "stats.py": fixedStats,
            "test_spread.py": "from stats import spread\n\n\ndef test_spread():\n    assert spread([1, 5, 3]) == 4\n",
        ])], Replies.independentWriter: [Replies.spreadCheck]])
        let (_, summary) = try await AgentHarness.run(model, task: Self.task, in: ws, approval: .never)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(summary.applied)
        #expect(summary.message.contains("evidence: 1 test(s) failed on the workspace as it was"), "\(summary.message)")
        #expect(ws.read("stats.py") == fixedStats)
    }

    @Test("with a person to ask, an unverified change is put to them as unverified")
    func askedPlainly() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": fixedStats])]])
        let (events, summary) = try await AgentHarness.run(model, task: Self.task, in: ws, approval: .onRequest, approvals: Approver())
        let asked = events.compactMap { if case .approvalRequested(let request) = $0 { return request.summary } else { return nil } }
        #expect(asked.contains { $0.hasPrefix("UNVERIFIED") }, "\(asked)")
        #expect(summary.outcome == .unverified && summary.applied, "applied because a person approved, still not a pass")
    }

    @Test("a refactor the request asks for may rest on the existing suite, and says so")
    func refactor() async throws {
        let ws = try AgentWorkspace(files: project)
        let renamed = "def mean(values):\n    total = sum(values)\n    return total / len(values)\n\n\ndef spread(values):\n    return max(values) - max(values)\n"
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": renamed])]])
        let (_, summary) = try await AgentHarness.run(model, task: "Refactor mean in stats.py without changing behaviour", in: ws)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(summary.message.contains("a refactor, as asked"), "\(summary.message)")
    }

    @Test("a refactor that changes a result the existing tests do not check is not a pass, and the model is told which")
    func refactorChangingResults() async throws {
        let ws = try AgentWorkspace(files: project)
        // `mean([1, 2, 3]) == 2` holds for 2 and for 2.0 alike; the callers of `mean` got a float.
        let floored = "def mean(values):\n    total = sum(values)\n    return total // len(values)\n\n\ndef spread(values):\n    return max(values) - max(values)\n"
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": floored]), Replies.files(["stats.py": floored])]])
        let (events, summary) = try await AgentHarness.run(model, task: "Refactor mean in stats.py without changing behaviour", in: ws, maxIterations: 2)
        #expect(summary.outcome != .passed, "\(summary.message)")
        #expect(!events.contains { if case .changesApplied = $0 { true } else { false } })
        let second = try #require(model.recordedRequests.dropFirst().first?.messages.last?.content)
        #expect(second.contains("`mean([1, 2, 3])` returned 2.0 before the change and now returns 2"), "\(second)")
    }

    /// The project with a test of its own for `spread`, and a change to `stats.py` that fixes nothing.
    static var projectWithTest: [String: String] { project.merging(["test_spread.py": "from stats import spread\n\n\ndef test_spread():\n    assert spread([1, 5, 3]) == 4\n"]) { $1 } }
    static let cosmetic = "def mean(values):\n    return sum(values) / len(values)  # average\n\n\ndef spread(values):\n    return max(values) - max(values)\n"

    @Test("a rewrite of the workspace's own test is refused as it happens, and the test stays the user's")
    func rewroteExistingTest() async throws {
        let files = Self.projectWithTest
        let ws = try AgentWorkspace(files: files)
        let weakened = "from stats import spread\n\n\ndef test_spread():\n    assert spread([1, 5, 3]) == 0\n"
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": Self.cosmetic, "test_spread.py": weakened])]])
        let (_, summary) = try await AgentHarness.run(model, task: Self.task, in: ws, maxIterations: 2, approval: .never)
        #expect(summary.outcome != .passed, "\(summary.message)")
        #expect(ws.read("test_spread.py") == files["test_spread.py"], "the user's test is untouched")
        let second = try #require(model.recordedRequests.dropFirst().first?.messages.last?.content)
        #expect(second.contains("Doer kept test_spread.py as it was"), "\(second)")
    }

    @Test("a change that passes only because of lines it added to the workspace's own test is unverified")
    func editedExistingTest() async throws {
        let files = Self.projectWithTest
        let ws = try AgentWorkspace(files: files)
        // Only adds lines, so it is written; the module-level rebinding makes the old test pass.
        let shadowed = files["test_spread.py"]! + "\n\nspread = lambda values: 4\n"
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": Self.cosmetic, "test_spread.py": shadowed])]])
        let (_, summary) = try await AgentHarness.run(model, task: Self.task, in: ws, approval: .never)
        #expect(summary.outcome == .unverified, "\(summary.message)")
        #expect(summary.message.contains("workspace's own tests or their configuration changed (test_spread.py)"), "\(summary.message)")
        #expect(ws.read("test_spread.py") == files["test_spread.py"], "the user's test is untouched")
    }

    @Test("only a request that asks for it may change the workspace's tests")
    func asksToChangeTests() {
        #expect(RequestEvidence.asksToChangeTests("Update the tests for the new API"))
        #expect(RequestEvidence.asksToChangeTests("change the tests in test_io.py to use tmp_path"))
        #expect(!RequestEvidence.asksToChangeTests("fix the failing test in test_io.py"), "a failing test is fixed in the code")
        #expect(!RequestEvidence.asksToChangeTests("spread returns 0; fix spread so the tests pass"))
    }

    @Test("a value the request states is the evidence: the fix alone passes, against Doer's own red test")
    func statedValue() async throws {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": fixedStats])]])
        let (_, summary) = try await AgentHarness.run(model, task: Self.statedTask, in: ws, approval: .never)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(summary.message.contains("evidence: 1 test(s) failed on the workspace as it was"), "\(summary.message)")
        #expect(ws.read("stats.py") == fixedStats)
    }

    @Test("test files are told from code by each language's conventions")
    func testFiles() {
        for path in ["test_x.py", "pkg/tests/util.py", "x_test.go", "src/app.test.js", "FooTest.java", "spec/a_spec.rb", "t/basic.t", "conftest.py"] {
            #expect(TestFiles.isTest(path), "\(path)")
        }
        for path in ["stats.py", "contest.py", "src/latest.js", "testing_utils_note.md".replacingOccurrences(of: ".md", with: ".py")] {
            #expect(!TestFiles.isTest(path), "\(path)")
        }
    }
}
