import DoerCore
@testable import DoerAgent
import Foundation
import Testing

private let goMod = "module textutil\n\ngo 1.19\n"
private let source = """
    package textutil

    import "strings"

    // WordCount returns how many words s holds.
    func WordCount(s string) int {
    \treturn len(strings.Split(s, " "))
    }

    // Split is not an example's to call: it returns two values.
    func Halves(s string) (string, string) {
    \treturn s[:len(s)/2], s[len(s)/2:]
    }

    """
private let fixed = source.replacingOccurrences(of: "return len(strings.Split(s, \" \"))", with: "return len(strings.Fields(s))")
private let ownTest = "package textutil\n\nimport \"testing\"\n\nfunc TestOne(t *testing.T) {\n\tif WordCount(\"a b\") != 2 {\n\t\tt.Fatal(\"a b\")\n\t}\n}\n"

@Suite("a Go request's stated examples as Doer's own test")
struct GoStatedExamplesTests {
    static let files = ["go.mod", "text/words.go", "text/words_test.go"]
    static func read(_ path: String) -> String? { ["text/words.go": source, "text/words_test.go": ownTest, "go.mod": goMod][path] }

    @Test("stated calls with literal values become one test file in the package that defines the function")
    func written() throws {
        let task = "WordCount(\"\") should be 0 and WordCount('a  b') returns 2, and WordCount(\"x\") == 1 already"
        let file = try #require(GoStatedExamples.file(task: task, files: Self.files, read: Self.read))
        #expect(file.path == "text/doer_examples_test.go")
        #expect(file.content.contains("package textutil\n"))
        #expect(file.content.contains("fmt.Sprint(WordCount(\"\")), fmt.Sprint(0)"))
        #expect(file.content.contains("fmt.Sprint(WordCount(\"a  b\")), fmt.Sprint(2)"))
        #expect(file.content.components(separatedBy: "func TestDoerStatedExample").count - 1 == 3)
    }

    @Test("nothing that might not compile: unknown or multi-value functions, non-literal values, Python-only escapes")
    func refused() {
        for task in ["Halves(\"ab\") should be \"a\"", "Missing(1) should be 2", "WordCount(s) should be 0",
                     "WordCount(\"a\\tb\") should be 2", "WordCount([1, 2]) should be 2", "WordCount(\"a\") should be [1]"] {
            #expect(GoStatedExamples.file(task: task, files: Self.files, read: Self.read) == nil, "\(task)")
        }
        #expect(GoStatedExamples.literal("True") == "true")
        #expect(GoStatedExamples.literal("-2.5") == "-2.5")
        #expect(GoStatedExamples.literal("'it''s'") == nil)
        #expect(GoStatedExamples.returnsOneValue("(a, b int) int {"))
        #expect(GoStatedExamples.returnsOneValue("(f func(int) int) (int, error) {") == false)
        #expect(GoStatedExamples.returnsOneValue("(s string) {") == false)
    }

    @Test("end to end: the stated example fails on the workspace as it was and passes with the fix, so the run passes on evidence")
    func evidence() async throws {
        let ws = try AgentWorkspace(files: ["go.mod": goMod, "words.go": source, "words_test.go": ownTest])
        let model = ScriptedModel(replies: [0: [Replies.files(["words.go": fixed])]])
        let task = "WordCount counts extra spaces as words: WordCount(\"a  b\") should be 2 and WordCount(\"\") should be 0. Fix it."
        let (_, summary) = try await AgentHarness.run(model, task: task, in: ws, approval: .never)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(summary.message.contains("failed on the workspace as it was"), "\(summary.message)")
        #expect(ws.read("words.go") == fixed)
        // Doer's test is never applied, nor shown to the model as a file of the workspace.
        #expect(ws.read("doer_examples_test.go") == nil)
        #expect(!(model.recordedRequests.first?.messages.map(\.content).joined().contains("TestDoerStatedExample") ?? true))
    }

    @Test("end to end: a change that leaves the stated example wrong does not pass, and the model is told the example's failure")
    func stillWrong() async throws {
        let ws = try AgentWorkspace(files: ["go.mod": goMod, "words.go": source, "words_test.go": ownTest])
        let cosmetic = source.replacingOccurrences(of: "// WordCount returns how many words s holds.", with: "// WordCount counts words.")
        let model = ScriptedModel(replies: [0: [Replies.files(["words.go": cosmetic]), Replies.files(["words.go": cosmetic])]])
        let task = "WordCount(\"a  b\") should be 2; fix WordCount in words.go"
        let (_, summary) = try await AgentHarness.run(model, task: task, in: ws, maxIterations: 2, approval: .never)
        #expect(summary.outcome != .passed, "\(summary.message)")
        #expect(ws.read("words.go") == source)
        let feedback = model.recordedRequests.dropFirst().map { $0.messages.last?.content ?? "" }.joined()
        #expect(feedback.contains("TestDoerStatedExample1"), "\(feedback)")
    }
}
