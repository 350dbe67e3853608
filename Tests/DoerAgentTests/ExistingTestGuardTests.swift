import DoerCore
@testable import DoerAgent
import Foundation
import Testing

private let userTest = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"

@Suite("the workspace's own tests are kept as they were while a candidate works")
struct ExistingTestGuardTests {
    @Test("adding tests to a test file is allowed; changing or dropping one of its lines is not")
    func additions() {
        let added = userTest + "\n\ndef test_more():\n    assert add(0, 0) == 0\n"
        #expect(ExistingTestGuard.refusal(path: "test_calc.py", original: userTest, new: added, task: "fix add") == nil)
        let importAdded = "import pytest\n" + userTest
        let namesAdded = userTest.replacingOccurrences(of: "from calc import add", with: "from calc import add, sub")
            + "\n\ndef test_sub():\n    assert sub(5, 3) == 2\n"
        #expect(ExistingTestGuard.refusal(path: "test_calc.py", original: userTest, new: namesAdded, task: "add sub") == nil,
                "a name added to an import line")
        let otherModule = userTest.replacingOccurrences(of: "from calc import add", with: "from fake import add")
        #expect(ExistingTestGuard.refusal(path: "test_calc.py", original: userTest, new: otherModule, task: "fix add") != nil,
                "the same name from elsewhere is a change")
        let nameDropped = userTest.replacingOccurrences(of: "from calc import add", with: "from calc import sub")
        #expect(ExistingTestGuard.refusal(path: "test_calc.py", original: userTest, new: nameDropped, task: "fix add") != nil)
        #expect(ExistingTestGuard.refusal(path: "test_calc.py", original: userTest, new: importAdded, task: "fix add") == nil)
        let changed = userTest.replacingOccurrences(of: "== 5", with: "== 6")
        #expect(ExistingTestGuard.refusal(path: "test_calc.py", original: userTest, new: changed, task: "fix add")?.contains("Doer kept test_calc.py") == true)
        let dropped = "from calc import add\n"
        #expect(ExistingTestGuard.refusal(path: "tests/test_calc.py", original: userTest, new: dropped, task: "fix add") != nil)
        let reordered = "def test_add():\n    assert add(2, 3) == 5\nfrom calc import add\n"
        #expect(ExistingTestGuard.refusal(path: "test_calc.py", original: userTest, new: reordered, task: "fix add") != nil)
    }

    @Test("new files, code files, and tests when the request asks to change tests are not guarded")
    func unguarded() {
        #expect(ExistingTestGuard.refusal(path: "test_new.py", original: nil, new: "x", task: "fix add") == nil)
        #expect(ExistingTestGuard.refusal(path: "calc.py", original: "a", new: "b", task: "fix add") == nil)
        #expect(ExistingTestGuard.refusal(path: "test_calc.py", original: userTest, new: "x", task: "update the tests for add") == nil)
        #expect(ExistingTestGuard.refusal(path: "test_calc.py", original: userTest, new: "x", task: "update the test in test_calc.py to expect 6") == nil)
    }

    @Test("a request that only names the test file is still fixed in the code, as the final check judges it")
    func namedIsNotAsked() {
        #expect(ExistingTestGuard.refusal(path: "test_calc.py", original: userTest, new: "x", task: "fix the failing test in test_calc.py") != nil)
    }

    @Test("end to end: a rewrite of the user's test is refused and said so, the test stays, and the code fix passes on it")
    func endToEnd() async throws {
        let ws = try AgentWorkspace(files: ["calc.py": Replies.wrong, "test_calc.py": userTest])
        let rewritten = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == -1\n"
        let model = ScriptedModel(replies: [0: [Replies.files(["test_calc.py": rewritten]), Replies.files(["calc.py": Replies.right])]])
        let (_, summary) = try await AgentHarness.run(model, task: "add(2, 3) returns -1 but it should return 5.", in: ws,
                                                      maxIterations: 3, approval: .never)
        let feedback = try #require(model.recordedRequests.dropFirst().first?.messages.last?.content)
        #expect(feedback.contains("Doer kept test_calc.py as it was"), "\(feedback)")
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(ws.read("test_calc.py") == userTest)
        #expect(ws.read("calc.py") == Replies.right)
    }
}
