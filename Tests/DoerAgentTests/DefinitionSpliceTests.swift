import DoerCore
@testable import DoerAgent
import Foundation
import Testing

@Suite("a large file written back with only the functions that changed")
struct DefinitionSpliceTests {
    static let module = """
        \"\"\"Iteration helpers.\"\"\"
        import itertools
        from functools import reduce

        __all__ = ["first", "interpose", "last"]


        def first(seq):
            \"\"\"The first element.

        >>> first('ABC')
        'A'
        \"\"\"
            return next(iter(seq))


        # interpose is not written yet
        @curry_like
        def interpose(el, seq):
            \"\"\"Introduce element between each pair of elements in seq.\"\"\"
            raise NotImplementedError


        def last(seq):
            values = (
                x
                for x in seq
            )
            return reduce(lambda a, b: b, values)
        """

    @Test("the function goes in place of its namesake, decorators and all; the rest stays line for line")
    func replacesNamesake() throws {
        let new = """
            def interpose(el, seq):
                inposed = itertools.chain.from_iterable(zip(itertools.repeat(el), seq))
                next(inposed)
                return inposed

            """
        let result = try #require(DefinitionSplice.spliced(old: Self.module, new: new))
        #expect(result.functions == ["interpose"])
        #expect(result.text.contains("    next(inposed)\n    return inposed\n\n\ndef last(seq):"))
        #expect(!result.text.contains("NotImplementedError") && !result.text.contains("@curry_like"))
        // Everything else is as it was: the docstring's margin lines, the comment, the other functions.
        #expect(result.text.contains(">>> first('ABC')\n'A'\n\"\"\"\n    return next(iter(seq))"))
        #expect(result.text.contains("# interpose is not written yet\ndef interpose(el, seq):"))
        #expect(result.text.hasSuffix("    return reduce(lambda a, b: b, values)"))
    }

    @Test("an import the function needs and the file lacks goes after the file's imports")
    func addsMissingImport() throws {
        let new = "import operator\nimport itertools\n\n\ndef last(seq):\n    return operator.itemgetter(-1)(list(seq))\n"
        let result = try #require(DefinitionSplice.spliced(old: Self.module, new: new))
        #expect(result.text.contains("import itertools\nfrom functools import reduce\nimport operator\n"))
        #expect(result.text.components(separatedBy: "import itertools").count == 2, "an import the file has is not repeated")
        #expect(result.text.contains("def last(seq):\n    return operator.itemgetter(-1)(list(seq))"))
    }

    @Test("an import of the function itself, a relative one or one from the file's own package is not added: it would be a cycle")
    func ownImportsLeftOut() throws {
        let new = "from toolz import interpose\nfrom .recipes import countby\nimport toolz.utils\nimport operator\n\n\ndef last(seq):\n    return operator.itemgetter(-1)(list(seq))\n"
        let result = try #require(DefinitionSplice.spliced(old: Self.module, new: new, package: DefinitionSplice.package(of: "toolz/itertoolz.py")))
        #expect(result.text.contains("import operator\n"))
        #expect(!result.text.contains("from toolz import") && !result.text.contains("from .recipes") && !result.text.contains("import toolz.utils"))
        let own = try #require(DefinitionSplice.spliced(old: Self.module, new: "from helpers import last\n\n\ndef last(seq):\n    return 1\n"))
        #expect(!own.text.contains("from helpers import last"), "an import binding the spliced name would shadow it")
        #expect(DefinitionSplice.package(of: "src/isodate/duration.py") == "isodate" && DefinitionSplice.package(of: "setup.py") == nil)
    }

    @Test("anything but functions the file defines once is no splice: a class, module code, a new or doubled name, an open string",
          arguments: [
              "class Thing:\n    pass\n",
              "def interpose(el, seq):\n    return seq\n\nprint('hi')\n",
              "def brand_new(x):\n    return x\n",
              "def interpose(el, seq):\n    return seq\n\n\ndef interpose(el, seq):\n    return []\n",
              "def interpose(el, seq):\n    return \"\"\"open\n",
              "",
          ])
    func refuses(new: String) {
        #expect(DefinitionSplice.spliced(old: Self.module, new: new) == nil)
    }

    @Test("a function defined twice in the file is not guessed at")
    func ambiguousNamesake() {
        let old = Self.module + "\n\ndef first(seq):\n    return seq[0]\n"
        #expect(DefinitionSplice.spliced(old: old, new: "def first(seq):\n    return 1\n") == nil)
    }
}

@Suite("the loop splices a large file's rewritten function")
struct DefinitionSpliceLoopTests {
    @Test("a reply holding only the function of a large file is put in place: the run passes, the rest of the file is kept")
    func loopSplices() async throws {
        let filler = (1...60).map { "def helper_\($0)(x):\n    return x + \($0)\n" }.joined(separator: "\n\n")
        let original = filler + "\n\ndef middle(values):\n    \"\"\"The middle value of a sorted copy.\"\"\"\n    raise NotImplementedError\n"
        let ws = try AgentWorkspace(files: ["seqs.py": original, "test_helpers.py": "from seqs import helper_1\n\n\ndef test_one():\n    assert helper_1(1) == 2\n"])
        let model = ScriptedModel(replies: [0: [Replies.files(["seqs.py": "def middle(values):\n    return sorted(values)[len(values) // 2]\n"])]])
        let (_, summary) = try await AgentHarness.run(model, task: "`middle(values)` in seqs.py is not implemented yet: middle([3, 1, 2]) should return 2",
                                                      in: ws, approval: .never)
        #expect(summary.outcome == .passed, "\(summary.message)")
        let written = try #require(ws.read("seqs.py"))
        #expect(written.contains("def helper_60(x):") && written.contains("    return sorted(values)[len(values) // 2]"))
        #expect(!written.contains("NotImplementedError"))
    }
}
