import DoerCore
@testable import DoerAgent
import Foundation
import Testing

/// "Add Reverse to strutil … Add tests." in a Go module: a model's test that calls a function
/// that does not exist yet fails before any change (its package does not build) and passes
/// with the model's code — whatever that code does. Like pytest's and node's, such a pass
/// needs a test written apart from the code.
private enum Reverse {
    static let goMod = "module example.com/strutil\n\ngo 1.19\n"
    static let existing = "package strutil\n\n// Upper returns s in upper case.\nfunc Upper(s string) string {\n\treturn strings.ToUpper(s)\n}\n"
        .replacingOccurrences(of: "package strutil\n", with: "package strutil\n\nimport \"strings\"\n")
    static let existingTest = "package strutil\n\nimport \"testing\"\n\nfunc TestUpper(t *testing.T) {\n\tif Upper(\"ab\") != \"AB\" {\n\t\tt.Fatal(Upper(\"ab\"))\n\t}\n}\n"
    static let task = "Add Reverse(s string) string to package strutil: it returns s with its characters in reverse order. Add tests."
    /// Returns its input: agrees with `ownTest`, which checks a palindrome.
    static let wrong = "package strutil\n\n// Reverse returns s reversed.\nfunc Reverse(s string) string {\n\treturn s\n}\n"
    static let right = """
        package strutil

        // Reverse returns s with its runes in reverse order.
        func Reverse(s string) string {
        \tr := []rune(s)
        \tfor i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
        \t\tr[i], r[j] = r[j], r[i]
        \t}
        \treturn string(r)
        }

        """
    static let ownTest = "package strutil\n\nimport \"testing\"\n\nfunc TestReverse(t *testing.T) {\n\tif got := Reverse(\"aba\"); got != \"aba\" {\n\t\tt.Fatal(got)\n\t}\n}\n"
    static let check = Replies.files(["strutil/request_check_test.go": """
        package strutil

        import "testing"

        func TestRequestCheckReverse(t *testing.T) {
        \tif got := Reverse("abc"); got != "cba" {
        \t\tt.Fatalf("Reverse(abc) = %q, want cba", got)
        \t}
        }

        """])
    /// Does not build: `want` is never declared (no tidying mends that).
    static let unbuildable = Replies.files(["strutil/request_check_test.go": """
        package strutil

        import "testing"

        func TestRequestCheckReverse(t *testing.T) {
        \tif Reverse("abc") != want {
        \t\tt.Fatal("abc")
        \t}
        }

        """])

    static func workspace() throws -> AgentWorkspace {
        try AgentWorkspace(files: ["go.mod": goMod, "strutil/upper.go": existing, "strutil/upper_test.go": existingTest])
    }
}

@Suite("Go: failing tests named by their file, and a pass on the model's own tests needs a test written apart")
struct GoEvidenceTests {

    @Test("a Go test's id names the file that declares it; a failed build names the test files its errors are in")
    func ids() {
        let files = ["go.mod", "a/x_test.go", "b/x_test.go", "b/y_test.go", "b/y.go"]
        let texts = ["a/x_test.go": "package a\n\nfunc TestSame(t *testing.T) {}\n",
                     "b/x_test.go": "package b\n\nfunc TestSame(t *testing.T) {}\nfunc TestCase(t *testing.T) {}\n",
                     "b/y_test.go": "package b\n\nfunc TestOther(t *testing.T) {}\n"]
        let report = LanguageTestReport(language: "go", framework: "go test", outcome: .failed, tests: [
            TestCaseResult(name: "TestSame", suite: "example.com/m/b", status: .failed),
            TestCaseResult(name: "TestCase/empty", suite: "example.com/m/b", status: .errored),
            TestCaseResult(name: "TestOther", suite: "example.com/m/b", status: .passed),
            TestCaseResult(name: "TestGone", suite: "example.com/m/b", status: .failed),
        ], durationMs: 1)
        #expect(GoTestIDs.failed(in: report, files: files, read: { texts[$0] })
                == ["b/x_test.go::TestSame", "b/x_test.go::TestCase/empty", "example.com/m/b.TestGone"])
        let broken = LanguageTestReport(language: "go", framework: "go test", outcome: .buildFailed, tests: [],
                                        detail: "# example.com/m/b [example.com/m/b.test]\nb/y_test.go:5:2: undefined: Reverse\n./x_test.go:9:1: x",
                                        durationMs: 1)
        #expect(GoTestIDs.failed(in: broken, files: files, read: { texts[$0] }) == ["b/y_test.go"],
                "a bare name two folders share names no file")
        #expect(RequestEvidence.defines("b/x_test.go::TestCase/empty", in: texts["b/x_test.go"]))
        #expect(!RequestEvidence.defines("b/x_test.go::TestCas", in: texts["b/x_test.go"]))
        #expect(RequestEvidence.sources(of: ["b/y_test.go", "b/doer_examples_test.go::TestDoerStatedExample1", "b/x_test.go::TestSame"],
                                        generated: ["b/doer_examples_test.go"], originalFiles: ["b/x_test.go"],
                                        original: { texts[$0] }, current: { texts[$0] }) == [.modelTests, .requestExamples, .workspaceTests])
        #expect(GoSource.newNames(old: Reverse.existing, new: Reverse.existing + Reverse.right.replacingOccurrences(of: "package strutil\n", with: ""))
                == ["Reverse"])
        #expect(IndependentTest.path(in: "strutil", avoiding: [], runner: .go) == "strutil/request_check_test.go")
        #expect(IndependentTest.testFile(in: Reverse.check, path: "strutil/request_check_test.go", runner: .go)?.contains("cba") == true)
        #expect(IndependentTest.testFile(in: Replies.files(["x_test.go": "package x\n"]), path: "x_test.go", runner: .go) == nil)
    }

    @Test("wrong code and its own test agree; the test written apart disagrees: unverified, nothing applied")
    func disagreementStands() async throws {
        let ws = try Reverse.workspace()
        let model = ScriptedModel(replies: [0: [Replies.files(["strutil/reverse.go": Reverse.wrong, "strutil/reverse_test.go": Reverse.ownTest])],
                                            Replies.independentWriter: [Reverse.check]])
        let (_, summary) = try await AgentHarness.run(model, task: Reverse.task, in: ws, maxIterations: 1, approval: .never)
        #expect(summary.outcome == .unverified, "\(summary.message)")
        #expect(summary.message.contains("written apart from the code fails"), "\(summary.message)")
        #expect(!summary.applied && ws.read("strutil/reverse.go") == nil && ws.read("strutil/reverse_test.go") == nil)
    }

    @Test("right code, its own test and the test written apart agree: passed on both; the writer is told the package, and its file is not applied")
    func agreementPasses() async throws {
        let ws = try Reverse.workspace()
        let ownTest = Reverse.ownTest.replacingOccurrences(of: "Reverse(\"aba\"); got != \"aba\"", with: "Reverse(\"ab\"); got != \"ba\"")
        let model = ScriptedModel(replies: [0: [Replies.files(["strutil/reverse.go": Reverse.right, "strutil/reverse_test.go": ownTest])],
                                            Replies.independentWriter: [Reverse.check]])
        let (events, summary) = try await AgentHarness.run(model, task: Reverse.task, in: ws, approval: .never)
        #expect(summary.outcome == .passed, "\(summary.message)")
        let evidence = try #require(AgentHarness.evidence(events))
        #expect(evidence.sources == [.modelTests, .independentTest])
        #expect(evidence.failedBefore == ["strutil/reverse_test.go"], "the model's file did not build before the change")
        #expect(ws.read("strutil/reverse.go") == Reverse.right && ws.read("strutil/request_check_test.go") == nil)
        let writer = try #require(model.recordedRequests.first { $0.messages.first?.content == PromptBuilder.independentGoTestSystem })
        let asked = writer.messages.last?.content ?? ""
        #expect(asked.contains("strutil/request_check_test.go") && asked.contains("package strutil"), "\(asked)")
        #expect(asked.contains("`Reverse`"), "the writer is told the new name: \(asked)")
        #expect(!asked.contains("r[i], r[j]"), "the writer never sees the candidate's code")
    }

    @Test("a test written apart that does not build is asked for again with the compiler's errors; never a pass on it")
    func unbuildableTest() async throws {
        let ws = try Reverse.workspace()
        let ownTest = Reverse.ownTest.replacingOccurrences(of: "Reverse(\"aba\"); got != \"aba\"", with: "Reverse(\"ab\"); got != \"ba\"")
        let model = ScriptedModel(replies: [0: [Replies.files(["strutil/reverse.go": Reverse.right, "strutil/reverse_test.go": ownTest])],
                                            Replies.independentWriter: [Reverse.unbuildable, Reverse.unbuildable]])
        let (_, summary) = try await AgentHarness.run(model, task: Reverse.task, in: ws, maxIterations: 1, approval: .never)
        #expect(summary.outcome == .unverified, "\(summary.message)")
        #expect(!summary.applied && ws.read("strutil/reverse.go") == nil)
        let writers = model.recordedRequests.filter { $0.messages.first?.content == PromptBuilder.independentGoTestSystem }
        #expect(writers.count == 2)
        #expect(writers.last?.messages.last?.content.contains("undefined: want") == true, "\(writers.last?.messages.last?.content ?? "")")
    }

    @Test("a request about Go with no Go tests yet is tested with go test, not pytest")
    func strategy() {
        #expect(TestStrategy.choose(files: [], task: "Create reverse.go with Reverse(s string) string. Add tests.").languages == ["go"])
        #expect(TestStrategy.choose(files: ["go.mod", "strutil/upper.go"], task: "Add Reverse to strutil. Add tests.").kind == .project)
        #expect(TestStrategy.choose(files: [], task: "Write a Go function that reverses a string, with tests.").kind == .project)
        #expect(TestStrategy.choose(files: [], task: "Create reverse.py with reverse(s). Add tests.").kind == .pytest)
        #expect(TestStrategy.choose(files: ["app.py"], task: "Let's go: add a cache to app.py").kind == .pytest)
        #expect(TestStrategy.choose(files: [], task: "Add a go-to-line command to editor.py").kind == .pytest)
    }

    @Test("an empty workspace: before the change there is no module at all, so no failure names a file; still the test written apart decides")
    func emptyWorkspace() async throws {
        let task = "Create a Go module with package strutil (strutil/reverse.go) and Reverse(s string) string, which returns s with its characters in reverse order. Add tests."
        for (code, check, expected) in [(Reverse.wrong, Reverse.check, RunSummary.Outcome.unverified), (Reverse.right, Reverse.check, .passed)] {
            let ws = try AgentWorkspace()
            let ownTest = code == Reverse.wrong ? Reverse.ownTest
                : Reverse.ownTest.replacingOccurrences(of: "Reverse(\"aba\"); got != \"aba\"", with: "Reverse(\"ab\"); got != \"ba\"")
            let model = ScriptedModel(replies: [0: [Replies.files(["go.mod": Reverse.goMod, "strutil/reverse.go": code,
                                                                   "strutil/reverse_test.go": ownTest])],
                                                Replies.independentWriter: [check]])
            let (events, summary) = try await AgentHarness.run(model, task: task, in: ws, maxIterations: 1, approval: .never)
            #expect(summary.outcome == expected, "\(summary.message)")
            #expect(summary.applied == (expected == .passed) && (ws.read("strutil/reverse.go") != nil) == (expected == .passed))
            if expected == .passed { #expect(AgentHarness.evidence(events)?.sources == [.modelTests, .independentTest]) }
            #expect(model.recordedRequests.contains { $0.messages.first?.content == PromptBuilder.independentGoTestSystem })
        }
    }
}
