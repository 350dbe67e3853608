import DoerCore
@testable import DoerAgent
import DoerModels
import DoerSandbox
import Foundation
import Testing

/// The agent on the jsonkit project, with a scripted model and a small context window.
private func run(_ model: ScriptedModel, task: String, in workspace: AgentWorkspace, window: Int = 4_096,
                 nativeTools: Bool = false, maxIterations: Int = 3) async throws -> (events: [AgentEvent], summary: RunSummary) {
    let configuration = AgentConfiguration(maxIterations: maxIterations, candidates: 1, seed: model.baseSeed,
                                           maxTokensPerTurn: 1_024, limits: ResourceLimits(wallClockSeconds: 30), approval: .never,
                                           stagingRoot: AgentHarness.staging, nativeTools: nativeTools, planning: .derived,
                                           contextWindow: window)
    let agent = Agent(provider: model, sandbox: try RepositoryFixture.sandbox(), configuration: configuration)
    var events: [AgentEvent] = []
    for await event in agent.run(task: task, workspace: workspace.url) { events.append(event) }
    guard case .done(let summary) = events.last else { throw DoerError.invalidArgument("no done event") }
    return (events, summary)
}

@Suite("the agent in a repository larger than the context")
struct RepositoryAgentTests {
    static let task = "JSONDecoder.raw_decode should skip leading whitespace before decoding; fix it"

    @Test("the first prompt holds the function the request names, and no prompt exceeds the window")
    func promptHoldsTheFunction() async throws {
        let ws = try AgentWorkspace(files: try RepositoryFixture.files())
        let model = ScriptedModel(replies: [0: ["I am not sure."]])
        _ = try await run(model, task: Self.task, in: ws, window: 4_096, maxIterations: 2)
        let requests = model.recordedRequests
        #expect(!requests.isEmpty)
        let first = try #require(requests.first?.messages.last?.content)
        #expect(first.contains("def raw_decode(self, s, idx=0):"), "\(first.prefix(600))")
        for request in requests {
            let tokens = TokenEstimate.tokens(request.messages, tools: request.tools)
            #expect(tokens + 1_024 <= 4_096, "prompt of \(tokens) tokens")
        }
    }

    @Test("a read, a search and a definitions lookup are answered on the next turn, then the edit is applied")
    func lookups() async throws {
        let ws = try AgentWorkspace(files: try RepositoryFixture.files())
        let model = ScriptedModel(replies: [0: [
            "Let me look.\n\n```read jsonkit/decoder.py 1-12\n```\n\n```search def py_scanstring\n```\n\n```definitions jsonkit/scanner.py\n```\n",
            "```edit jsonkit/decoder.py\n<<<<<<< SEARCH\n    def raw_decode(self, s, idx=0):\n=======\n    def raw_decode(self, s, idx=0):  # checked\n>>>>>>> REPLACE\n```\n",
        ]])
        let (events, _) = try await run(model, task: Self.task, in: ws)
        let requests = model.recordedRequests
        #expect(requests.count >= 2)
        let answer = try #require(requests.dropFirst().first?.messages.last?.content)
        #expect(answer.contains("jsonkit/decoder.py lines 1-12 of "), "\(answer.prefix(500))")
        #expect(answer.contains("\"\"\"Implementation of JSONDecoder"))
        #expect(answer.contains("jsonkit/decoder.py:") && answer.contains("def py_scanstring("))
        #expect(answer.contains("jsonkit/scanner.py (") && answer.contains("def py_make_scanner(context):"))
        #expect(answer.contains("Your last reply read jsonkit/decoder.py"), "\(answer.prefix(300))")
        #expect(events.contains { if case .action(_, .editFile(let path, _, _)) = $0 { path == "jsonkit/decoder.py" } else { false } })
    }

    @Test("the same lookups as native tool calls")
    func nativeLookups() async throws {
        let ws = try AgentWorkspace(files: try RepositoryFixture.files())
        let calls = #"[{"name": "read_file", "arguments": "{\"path\": \"jsonkit/scanner.py\", \"start_line\": 1, \"end_line\": 5}"}, {"name": "list_definitions", "arguments": "{\"path\": \"jsonkit/encoder.py\"}"}]"#
        let model = ScriptedModel(replies: [0: [ScriptedModel.toolsPrefix + calls, "I am done."]])
        _ = try await run(model, task: Self.task, in: ws, nativeTools: true, maxIterations: 2)
        let requests = model.recordedRequests
        #expect(requests.first?.tools.map(\.name).contains("read_file") == true)
        let answer = try #require(requests.dropFirst().first?.messages.last?.content)
        #expect(answer.contains("jsonkit/scanner.py lines 1-5 of"))
        #expect(answer.contains("JSONEncoder.iterencode") || answer.contains("def iterencode(self, o, _one_shot=False):"))
    }

    @Test("a lookup outside the workspace or through a link shows nothing of it")
    func lookupsStayInside() async throws {
        var files = try RepositoryFixture.files()
        files["notes.txt"] = "hello\n"
        let ws = try AgentWorkspace(files: files)
        let outside = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("secret-\(UUID().uuidString.prefix(6)).txt")
        try "TOP-SECRET-VALUE\n".write(to: outside, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: outside) }
        try FileManager.default.createSymbolicLink(atPath: ws.url.appendingPathComponent("link.txt").path, withDestinationPath: outside.path)
        let model = ScriptedModel(replies: [0: [
            "```read link.txt\n```\n\n```search TOP-SECRET\n```\n\n```read ../\(outside.lastPathComponent)\n```\n",
            "I am done.",
        ]])
        _ = try await run(model, task: Self.task, in: ws, maxIterations: 2)
        for request in model.recordedRequests {
            #expect(!request.messages.contains { $0.content.contains("TOP-SECRET-VALUE") })
        }
    }

    @Test("rewriting most of a large file whole is refused, and the model is told to use edit blocks",
          arguments: ["def raw_decode(self, s, idx=0):\n    return None, 0\n", ""])
    func largeRewriteRefused(content: String) async throws {
        let files = try RepositoryFixture.files()
        let ws = try AgentWorkspace(files: files)
        let model = ScriptedModel(replies: [0: ["```file jsonkit/decoder.py\n\(content)```\n", "I am done."]])
        let (events, summary) = try await run(model, task: Self.task, in: ws, maxIterations: 2)
        let refusal = model.recordedRequests.dropFirst().first?.messages.last?.content ?? ""
        // The refused write leaves the suite passing, but a pass that changed nothing is no
        // pass: the model hears why its write was refused.
        #expect(refusal.contains("Refused to write jsonkit/decoder.py whole"), "\(refusal.prefix(300))")
        #expect(refusal.contains("```edit jsonkit/decoder.py"))
        #expect(ws.read("jsonkit/decoder.py") == files["jsonkit/decoder.py"])
        #expect(summary.outcome != .passed && !summary.applied)
        // Nothing changed, and the evidence record says so.
        #expect(events.contains { if case .evidence(let evidence) = $0 { !evidence.verified } else { false } }
                || summary.outcome != .unverified)
    }

    @Test("a large file may still be rewritten when most of it stays, and small files always")
    func largeFileGuard() {
        let large = (1...300).map { "line_\($0) = \($0)" }.joined(separator: "\n") + "\n"
        #expect(LargeFileGuard.refusal(path: "big.py", old: large, new: "x = 1\n") != nil)
        #expect(LargeFileGuard.refusal(path: "big.py", old: large, new: String(large.prefix(large.count / 3))) != nil)
        let reordered = large.split(separator: "\n").reversed().joined(separator: "\n")
        #expect(LargeFileGuard.refusal(path: "big.py", old: large, new: reordered) == nil, "kept lines in any order")
        let edited = large.replacingOccurrences(of: "line_7 = 7", with: "line_7 = 8")
        #expect(LargeFileGuard.refusal(path: "big.py", old: large, new: edited) == nil)
        // Indentation changes alone do not count as dropping lines.
        #expect(LargeFileGuard.refusal(path: "big.py", old: large, new: large.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")) == nil)
        let small = (1...150).map { "a\($0) = 1" }.joined(separator: "\n")
        #expect(LargeFileGuard.refusal(path: "small.py", old: small, new: "") == nil)
        #expect(LargeFileGuard.refusal(path: "new.py", old: nil, new: "") == nil)
        // A file of blank lines and one line of code is not large in any sense that matters.
        let padded = String(repeating: "x = 1\n", count: 250)
        #expect(LargeFileGuard.refusal(path: "p.py", old: padded, new: "x = 1\n") != nil, "250 equal lines are still 250 lines")
    }
}

@Suite("the evidence is a record")
struct ChangeEvidenceEventTests {
    private static let project: [String: String] = [
        "stats.py": "def mean(values):\n    return sum(values) / len(values)\n\n\ndef spread(values):\n    return max(values) - max(values)\n",
        "test_stats.py": "from stats import mean\n\n\ndef test_mean():\n    assert mean([1, 2, 3]) == 2\n",
    ]
    private static let fixed = "def mean(values):\n    return sum(values) / len(values)\n\n\ndef spread(values):\n    return max(values) - min(values)\n"

    @Test("red before, green after: an evidence event names the tests that failed on the workspace as it was")
    func redGreen() async throws {
        let ws = try AgentWorkspace(files: Self.project)
        let model = ScriptedModel(replies: [0: [Replies.files([
            "stats.py": Self.fixed,
            "test_spread.py": "from stats import spread\n\n\ndef test_spread():\n    assert spread([1, 5, 3]) == 4\n",
        ])], Replies.independentWriter: [Replies.spreadCheck]])
        let (events, summary) = try await AgentHarness.run(model, task: "spread in stats.py is wrong: it should be the largest value minus the smallest; fix it",
                                                           in: ws, approval: .never)
        #expect(summary.outcome == .passed, "\(summary.message)")
        let evidence = try #require(events.compactMap { if case .evidence(let e) = $0 { e } else { nil } }.first)
        #expect(evidence.kind == .redGreen && evidence.verified)
        #expect(evidence.failedBefore == ["test_spread.py::test_spread"], "\(evidence.failedBefore)")
        #expect(evidence.passedAfter == evidence.failedBefore)
        #expect(evidence.before?.failed == 1)
        #expect(evidence.command.contains("pytest"))
        // The red test is the model's own, backed by one written apart from the code: the record and the words say so.
        #expect(evidence.sources == [.modelTests, .independentTest])
        #expect(evidence.summary.contains("the tests are the model's own, and a test of the request written apart from the code agrees"),
                "\(evidence.summary)")
        // It comes before the change is applied, and it survives the JSON the frontends and the store read.
        let evidenceIndex = try #require(events.firstIndex { if case .evidence = $0 { true } else { false } })
        let appliedIndex = try #require(events.firstIndex { if case .changesApplied = $0 { true } else { false } })
        #expect(evidenceIndex < appliedIndex)
        let decoded = try JSONDecoder().decode(AgentEvent.self, from: JSONEncoder().encode(AgentEvent.evidence(evidence)))
        #expect(decoded == .evidence(evidence))
    }

    @Test("no red test: the evidence event says unverified and why")
    func unverified() async throws {
        let ws = try AgentWorkspace(files: Self.project)
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": Self.fixed])]])
        let (events, summary) = try await AgentHarness.run(model, task: "spread in stats.py is wrong: it should be the largest value minus the smallest; fix it",
                                                           in: ws, approval: .never)
        #expect(summary.outcome == .unverified)
        let evidence = try #require(events.compactMap { if case .evidence(let e) = $0 { e } else { nil } }.first)
        #expect(evidence.kind == ChangeEvidence.Kind.none && !evidence.verified && evidence.failedBefore.isEmpty)
        #expect(evidence.summary.contains("pass on the workspace as it was too"))
        #expect(evidence.before?.failed == 0)
    }

    @Test("failed test ids are read from the runners' summaries")
    func failedIds() {
        let output = "F.\n=== short test summary info ===\nFAILED test_a.py::test_one - assert 1 == 2\nERROR tests/test_b.py::test_two\nFAILED test_a.py::test_one - again\n1 failed"
        #expect(RequestEvidence.failedTests(in: output) == ["test_a.py::test_one", "tests/test_b.py::test_two"])
        #expect(RequestEvidence.failedTests(in: "not ok 3 - adds numbers\nok 4 - other") == ["adds numbers"])
        #expect(RequestEvidence.failedTests(in: "all good").isEmpty)
    }

    @Test("whose test went red to green is read from its file: Doer's examples, the workspace's, or the model's")
    func evidenceSources() {
        let sources = RequestEvidence.sources(
            of: ["test_doer_examples.py::test_example_1", "tests/test_core.py::test_a", "test_new.py::test_b", "test_doer_examples.py::test_example_2"],
            generated: ["test_doer_examples.py"], originalFiles: ["tests/test_core.py", "core.py"],
            original: { $0 == "tests/test_core.py" ? "def test_a():\n    assert core.a()\n" : nil })
        #expect(sources == [.requestExamples, .workspaceTests, .modelTests])
        // A test the model added to a test file the workspace had is the model's, not the project's.
        let added = RequestEvidence.sources(of: ["tests/test_core.py::test_new", "tests/test_core.py::TestCore::test_b[2-3]"],
                                            generated: [], originalFiles: ["tests/test_core.py"],
                                            original: { _ in "class TestCore:\n    def test_a(self):\n        pass\n\ndef test_newer():\n    pass\n" })
        #expect(added == [.modelTests])
        #expect(RequestEvidence.defines("tests/test_core.py::TestCore::test_a", in: "class TestCore:\n    def test_a(self):\n        pass\n"))
        #expect(RequestEvidence.defines("t.py::test_x[1]", in: "async def test_x():\n    pass\n"))
        #expect(!RequestEvidence.defines("t.py::test_x", in: "# def test_x\ntest_x = 1\n"))
        #expect(RequestEvidence.sources(of: [], generated: [], originalFiles: []).isEmpty)
        // A test file that could not be imported (an empty workspace before the module exists)
        // is the project's only when the workspace had it and the change left it as it was.
        #expect(RequestEvidence.sources(of: ["test_roman.py"], generated: [], originalFiles: []) == [.modelTests])
        let kept = "from core import f\n\ndef test_f():\n    assert f() == 1\n"
        #expect(RequestEvidence.sources(of: ["tests/test_core.py"], generated: [], originalFiles: ["tests/test_core.py"],
                                        original: { _ in kept }, current: { _ in kept }) == [.workspaceTests])
        #expect(RequestEvidence.sources(of: ["tests/test_core.py"], generated: [], originalFiles: ["tests/test_core.py"],
                                        original: { _ in kept }, current: { _ in kept + "\ndef test_g():\n    assert f() == 2\n" }) == [.modelTests])
        #expect(RequestEvidence.sources(of: ["test_doer_examples.py"], generated: ["test_doer_examples.py"], originalFiles: []) == [.requestExamples])
        // A runner's name without a file (node's TAP) says nothing of whose test it is.
        #expect(RequestEvidence.sources(of: ["adds numbers"], generated: [], originalFiles: ["a.test.js"]).isEmpty)
    }
}
