import DoerCore
import DoerSandbox
@testable import DoerAgent
import Foundation
import Testing

/// "Create slug.js … Add tests." in an empty workspace: node's runner, and the same rule as
/// pytest's — a pass only the model's own tests show needs a test written apart from the code.
private enum Slug {
    static let task = "Create slug.js exporting slugify(text): lower case, and every run of spaces becomes one hyphen. Add tests."
    static let joined = "function slugify(text) {\n  return text.toLowerCase().replace(/ +/g, '');\n}\nmodule.exports = { slugify };\n"
    static let hyphens = joined.replacingOccurrences(of: "/ +/g, ''", with: "/ +/g, '-'")
    /// Agrees with `joined`.
    static let ownTest = """
        const test = require('node:test');
        const assert = require('node:assert/strict');
        const { slugify } = require('./slug');

        test('joins words', () => {
          assert.equal(slugify('Hello World'), 'helloworld');
        });

        """
    static let rightTest = ownTest.replacingOccurrences(of: "'helloworld'", with: "'hello-world'")
    static let check = Replies.files(["request_check.test.js": """
        const test = require('node:test');
        const assert = require('node:assert/strict');
        const { slugify } = require('./slug');

        test('runs of spaces become one hyphen', () => {
          assert.equal(slugify('A  Big Day'), 'a-big-day');
        });

        """])
}

@Suite("node --test: tests read one by one, and a pass on the model's own tests needs a test written apart")
struct NodeEvidenceTests {

    @Test("TAP read test by test: a failing test's file from its location, a file that did not load by its path")
    func report() {
        let output = """
            TAP version 13
            # Subtest: /workspace/broken.test.js
            not ok 1 - /workspace/broken.test.js
              ---
              location: '/workspace/broken.test.js:1:1'
              failureType: 'testCodeFailure'
              error: 'test failed'
              ...
            # Subtest: lower
            ok 2 - lower
              ---
              duration_ms: 1.1
              ...
            # Subtest: hyphen \\# 2
            not ok 3 - hyphen \\# 2
              ---
              location: '/workspace/tests/slug.test.js:5:1'
              error: |-
                Expected values to be strictly equal:
              ...
            # Subtest: group
            ok 4 - group
                # Subtest: inner
                not ok 1 - inner
            1..4
            """
        #expect(NodeTestReport.failedIDs(in: output) == ["broken.test.js", "tests/slug.test.js::hyphen # 2"])
        let inPlace = output.replacingOccurrences(of: "/workspace/", with: "/tmp/copy-1/")
        #expect(NodeTestReport.failedIDs(in: inPlace, roots: ["/tmp/copy-1"]) == NodeTestReport.failedIDs(in: output),
                "a backend that runs tests in the folder itself names the same files")
        let single = NodeTestReport.outcome(of: output, file: "tests/slug.test.js")
        #expect(single.passed == ["tests/slug.test.js::lower", "tests/slug.test.js::group"], "a nested test is its block's")
        #expect(single.failed == ["broken.test.js", "tests/slug.test.js::hyphen # 2"])
        #expect(RequestEvidence.sources(of: NodeTestReport.failedIDs(in: output), generated: [], originalFiles: ["broken.test.js"],
                                        original: { _ in "x" }, current: { _ in "x" }) == [.workspaceTests, .modelTests])
        #expect(RequestEvidence.defines("tests/slug.test.js::hyphen", in: "test(\"hyphen\", () => {})"))
        #expect(!RequestEvidence.defines("tests/slug.test.js::hyphen", in: "test('other', () => {})"))
    }

    @Test("a request about JavaScript with no tests yet is tested with node's runner")
    func strategy() {
        #expect(TestStrategy.choose(files: [], task: Slug.task).kind == .nodeTest)
        #expect(TestStrategy.choose(files: ["app.js", "package.json"], task: "Fix the date parsing in app.js.").kind == .nodeTest)
        #expect(TestStrategy.choose(files: [], task: "Create slug.py with slugify(text). Add tests.").kind == .pytest)
        #expect(TestStrategy.choose(files: ["conf.py"], task: "Read package.json from conf.py").kind == .pytest)
        #expect(IndependentTest.path(in: "", avoiding: [], runner: .node) == "request_check.test.js")
        #expect(IndependentTest.testFile(in: Slug.check, path: "request_check.test.js", runner: .node)?.contains("a-big-day") == true)
    }

    @Test("code and its own test agree on a wrong reading; the test written apart disagrees: unverified, nothing applied")
    func disagreementStands() async throws {
        let ws = try AgentWorkspace()
        let model = ScriptedModel(replies: [0: [Replies.files(["slug.js": Slug.joined, "slug.test.js": Slug.ownTest])],
                                            Replies.independentWriter: [Slug.check]])
        let (_, summary) = try await AgentHarness.run(model, task: Slug.task, in: ws, maxIterations: 1, approval: .never)
        #expect(summary.outcome == .unverified, "\(summary.message)")
        #expect(summary.message.contains("written apart from the code fails"), "\(summary.message)")
        #expect(!summary.applied && ws.read("slug.js") == nil && ws.read("slug.test.js") == nil)
    }

    @Test("right code, its own test and the test written apart agree: passed on both, the writer asked in JavaScript")
    func agreementPasses() async throws {
        let ws = try AgentWorkspace()
        let model = ScriptedModel(replies: [0: [Replies.files(["slug.js": Slug.hyphens, "slug.test.js": Slug.rightTest])],
                                            Replies.independentWriter: [Slug.check]])
        let (events, summary) = try await AgentHarness.run(model, task: Slug.task, in: ws, approval: .never)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(AgentHarness.evidence(events)?.sources == [.modelTests, .independentTest])
        #expect(ws.read("slug.js") == Slug.hyphens && ws.read("request_check.test.js") == nil)
        let writer = try #require(model.recordedRequests.first { $0.messages.first?.content == PromptBuilder.independentNodeTestSystem })
        #expect(writer.messages.last?.content.contains("request_check.test.js") == true)
    }
}
