import DoerCore
@testable import DoerAgent
import DoerSandbox
import Foundation
import Testing

@Suite("what a turn shows of a repository larger than the context")
struct PromptFilesTests {
    /// The jsonkit project, indexed, and a copy to render from.
    final class Project: @unchecked Sendable {
        let workspace: AgentWorkspace
        let copy: WorkspaceCopy
        let index: WorkspaceIndex
        init() async throws {
            workspace = try AgentWorkspace(files: try RepositoryFixture.files())
            index = try await RepositoryFixture.index(workspace, sandbox: try RepositoryFixture.sandbox())
            copy = try WorkspaceCopy(copying: workspace.url, stagingRoot: RepositoryFixture.staging)
        }
        func render(_ task: String, tokens: Int, failure: String? = nil) -> PromptFiles.Rendered {
            PromptFiles(index: index, focus: RequestFocus(task: task)).render(of: copy, tokens: tokens, failure: failure)
        }
        deinit { copy.discard() }
    }

    @Test("a request naming a method in a large file gets that method, its class header and the imports, within budget",
          arguments: [
            "JSONDecoder.raw_decode returns the wrong end index for documents with leading whitespace; fix it",
            "Fix `raw_decode` so that it skips leading whitespace",
            "raw_decode() should skip leading whitespace",
            "the raw_decode method should skip leading whitespace before decoding",
          ])
    func namedMethod(task: String) async throws {
        let project = try await Project()
        for budget in [900, 1_500, 3_000, 8_000] {
            let shown = project.render(task, tokens: budget)
            #expect(shown.text.contains("def raw_decode(self, s, idx=0):"), "budget \(budget): \(shown.text.prefix(400))")
            #expect(shown.text.contains("class JSONDecoder(object):"), "budget \(budget)")
            #expect(shown.text.contains("import re"), "budget \(budget)")
            #expect(shown.text.contains("only the parts below are shown"), "budget \(budget)")
            #expect(TokenEstimate.tokens(shown.text) <= budget, "budget \(budget): \(TokenEstimate.tokens(shown.text))")
            #expect(!shown.text.contains("```file jsonkit/decoder.py"), "a large file is never shown as if whole")
        }
        // Before the index, the prompt held the smallest files and never this function.
        #expect(!RepositoryFixture.smallestFirst(project.copy).contains("def raw_decode"))
    }

    @Test("a failing test's traceback selects the definitions it passes through")
    func traceback() async throws {
        let project = try await Project()
        let encoder = try #require(project.index.files["jsonkit/encoder.py"])
        let iterencode = try #require(encoder.definitions.first { $0.qualifiedName == "JSONEncoder.iterencode" })
        let inner = try #require(encoder.definitions.first { $0.name == "_iterencode_dict" })
        let failures = [
            // Python's own form, with the sandbox's absolute path.
            """
            Traceback (most recent call last):
              File "/workspace/tests/test_roundtrip.py", line 6, in test_roundtrip
              File "/workspace/jsonkit/encoder.py", line \(iterencode.startLine + 5), in iterencode
            TypeError: boom
            """,
            // pytest's short form, relative paths.
            "tests/test_roundtrip.py:6: in test_roundtrip\n    assert x\njsonkit/encoder.py:\(iterencode.startLine + 5): in iterencode\n    return _iterencode(o, 0)\nE   TypeError",
        ]
        for failure in failures {
            let shown = project.render("the round trip test fails", tokens: 1_500, failure: failure)
            #expect(shown.text.contains("def iterencode(self, o, _one_shot=False):"), "\(shown.text.prefix(300))")
            #expect(shown.shownDefinitions.contains("JSONEncoder.iterencode"))
            #expect(TokenEstimate.tokens(shown.text) <= 1_500)
        }
        // The innermost frame's function, not only the outer one.
        let deep = "  File \"jsonkit/encoder.py\", line \(iterencode.startLine + 2), in iterencode\n  File \"jsonkit/encoder.py\", line \(inner.startLine + 3), in _iterencode_dict\nValueError"
        let shown = project.render("dumps fails", tokens: 3_000, failure: deep)
        #expect(shown.text.contains("def _iterencode_dict(dct, _current_indent_level):"))
    }

    @Test("a file the request names is shown whole when it is small; the others appear in the map")
    func namedFile() async throws {
        let project = try await Project()
        let shown = project.render("scanner.py: make_scanner should reject NaN when asked", tokens: 2_000)
        #expect(shown.text.contains("```file jsonkit/scanner.py\n"))
        #expect(shown.partial && shown.text.contains("Not shown in full"))
        #expect(shown.text.contains("- jsonkit/decoder.py ("), "the map lists what is not shown")
        #expect(shown.text.contains("```read PATH START-END"))
        #expect(TokenEstimate.tokens(shown.text) <= 2_000)
    }

    @Test("a small workspace is shown whole, with no map and no lookup hint, as before")
    func smallWorkspace() async throws {
        let ws = try AgentWorkspace(files: ["stats.py": "def mean(v):\n    return sum(v) / len(v)\n", "test_stats.py": "from stats import mean\n"])
        let copy = try WorkspaceCopy(copying: ws.url, stagingRoot: RepositoryFixture.staging)
        defer { copy.discard() }
        let shown = PromptFiles(index: WorkspaceIndex(), focus: RequestFocus(task: "fix mean")).render(of: copy, tokens: 2_000)
        // Smallest first, as before.
        #expect(shown.text == "```file test_stats.py\nfrom stats import mean\n```\n```file stats.py\ndef mean(v):\n    return sum(v) / len(v)\n```\n")
        #expect(!shown.partial)
    }

    @Test("no budget, however small, is exceeded, and the messages that carry it fit the window")
    func budgets() async throws {
        let project = try await Project()
        for budget in [0, 10, 100, 400, 2_500, 20_000] {
            let shown = project.render("fix JSONDecoder.raw_decode and py_scanstring", tokens: budget)
            #expect(TokenEstimate.tokens(shown.text) <= budget, "budget \(budget)")
        }
        let huge = String(repeating: "a very long request line with words in it\n", count: 2_000)
        let messages: [ChatMessage] = [.system("system " + String(repeating: "x", count: 3_000)), .user(huge), .assistant("I wrote a.py."), .user(huge)]
        for budget in [500, 1_500, 4_000] {
            let fitted = PromptBuilder.fitted(messages, tokens: budget)
            #expect(TokenEstimate.tokens(fitted) <= budget, "budget \(budget): \(TokenEstimate.tokens(fitted))")
            #expect(fitted.count == messages.count)
        }
    }

    @Test("the context budget follows the window and always leaves the reply its room")
    func contextBudget() {
        for window in [2_048, 4_096, 8_192, 32_768] {
            let budget = ContextBudget(window: window, reply: 1_536)
            #expect(budget.prompt + budget.reply < window)
            #expect(budget.openingFiles(besides: 900) * 2 + 900 <= budget.prompt)
        }
        #expect(ContextBudget(window: nil, reply: 1_536).window == ContextBudget.fallbackWindow)
        #expect(ContextBudget(window: 4_096, reply: 4_000).reply == 2_048, "a reply allowance may not eat the window")
    }

    @Test("the token estimate stays above what byte-level tokenizers count for code and prose")
    func estimate() {
        // A line of code splits at every symbol; English words are about a token each.
        #expect(TokenEstimate.tokens("def raw_decode(self, s, idx=0):") >= 11)
        #expect(TokenEstimate.tokens(String(repeating: "word ", count: 300)) >= 300)
        #expect(TokenEstimate.tokens("naïve façade 😀") >= 8)
        #expect(TokenEstimate.prefix(String(repeating: "line\n", count: 100), fitting: 30).count <= 90)
    }
}

@Suite("what a turn shows of a large module around the function a request names")
struct ModuleContextTests {
    /// A module too large to show whole: a table near the top, the function that reads it
    /// far below, and a licence and a manifest beside it.
    static func project() -> [String: String] {
        let filler = (1...60).map { "def helper_\($0)(value):\n    \"\"\"Helper \($0).\"\"\"\n    return value + \($0)\n" }.joined(separator: "\n\n")
        let module = """
            import re

            NUMERALS = (('M', 1000),
                        ('C', 100),
                        ('X', 10),
                        ('I', 1))
            UNUSED_LIMIT = 4999


            \(filler)


            def to_roman(n):
                result = ""
                for numeral, integer in NUMERALS:
                    while n >= integer:
                        result += numeral
                        n -= integer
                return result
            """
        return ["romans/__init__.py": module, "LICENSE.txt": "Permission is granted.\n", "MANIFEST.in": "include README\n",
                "romans/test_small.py": "def test_one():\n    assert True\n"]
    }

    @Test("the table the function reads is shown with it; constants it does not read are not; no licence or manifest fills the rest")
    func showsTheTable() async throws {
        let workspace = try AgentWorkspace(files: Self.project())
        let index = try await RepositoryFixture.index(workspace, sandbox: try RepositoryFixture.sandbox())
        let copy = try WorkspaceCopy(copying: workspace.url, stagingRoot: RepositoryFixture.staging)
        defer { copy.discard() }
        #expect(index.files["romans/__init__.py"]?.globals["NUMERALS"] == 3...6)
        let shown = PromptFiles(index: index, focus: RequestFocus(task: "`to_roman(90)` returns 'LXXXX', but it should return 'XC'."))
            .render(of: copy, tokens: 1_000)
        #expect(shown.text.contains("NUMERALS = (('M', 1000),\n            ('C', 100),"), "\(shown.text)")
        #expect(shown.text.contains("def to_roman(n):"))
        #expect(!shown.text.contains("UNUSED_LIMIT"))
        #expect(!shown.text.contains("```file LICENSE.txt") && !shown.text.contains("```file MANIFEST.in"))
        #expect(!shown.text.contains("```file romans/test_small.py"))
        #expect(shown.shownInPart["romans/__init__.py"] == ["to_roman"])
    }

    @Test("the file's functions the named one calls are shown with it (the fault is often there); others it does not call are not")
    func showsTheCallees() async throws {
        let filler = (1...60).map { "def helper_\($0)(value):\n    \"\"\"Helper \($0).\"\"\"\n    return value + \($0)\n" }.joined(separator: "\n\n")
        let module = """
            def ordinal(number):
                n = abs(int(number))
                if n % 100 in (11, 12):
                    return "th"
                return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


            \(filler)


            def ordinalize(number):
                return "{}{}".format(number, ordinal(number))
            """
        let workspace = try AgentWorkspace(files: ["ordinals/__init__.py": module])
        let index = try await RepositoryFixture.index(workspace, sandbox: try RepositoryFixture.sandbox())
        let copy = try WorkspaceCopy(copying: workspace.url, stagingRoot: RepositoryFixture.staging)
        defer { copy.discard() }
        let shown = PromptFiles(index: index, focus: RequestFocus(task: "`ordinals.ordinalize(113)` returns '113rd', but it should return '113th'."))
            .render(of: copy, tokens: 1_000)
        #expect(shown.text.contains("def ordinalize(number):"), "\(shown.text)")
        #expect(shown.text.contains("if n % 100 in (11, 12):"), "\(shown.text)")
        #expect(!shown.text.contains("def helper_1("))
        #expect(shown.shownInPart["ordinals/__init__.py"] == ["ordinalize", "ordinal"], "\(shown.shownInPart)")
        // With no room for it, the callee is left out and the named function still shown.
        let tight = PromptFiles(index: index, focus: RequestFocus(task: "`ordinals.ordinalize(113)` returns '113rd'."))
            .render(of: copy, tokens: 150)
        #expect(tight.text.contains("def ordinalize(number):"), "\(tight.text)")
    }
}
