@testable import DoerAgent
import Foundation
import Testing

@Suite("a whole-file rewrite read as changes to the file as it was")
struct DefinitionMergeTests {
    static let module = """
        \"\"\"Roman numerals.\"\"\"
        import re


        class OutOfRangeError(ValueError):
            pass


        romanNumeralMap = (('M', 1000),
                           ('C', 100),
                           ('X', 10),
                           ('I', 1))


        def toRoman(n):
            result = ""
            for numeral, integer in romanNumeralMap:
                while n >= integer:
                    result += numeral
                    n -= integer
            return result


        def fromRoman(s):
            return len(s)


        if __name__ == "__main__":
            print(toRoman(4))
        """

    @Test("a rewrite that drops the table and the exception its code still uses keeps them; its function goes in place")
    func keepsDroppedNames() throws {
        let rewrite = """
            from __future__ import annotations
            import re
            import sys

            def toRoman(n):
                if n > 4999:
                    raise OutOfRangeError("too big")
                return "".join(numeral * (n // integer) for numeral, integer in romanNumeralMap)
            """
        let merged = try #require(DefinitionMerge.merged(old: Self.module, new: rewrite))
        #expect(merged.kept == ["OutOfRangeError", "romanNumeralMap"])
        #expect(merged.text.contains("romanNumeralMap = (('M', 1000),"))
        #expect(merged.text.contains("class OutOfRangeError(ValueError):"))
        #expect(merged.text.contains("raise OutOfRangeError(\"too big\")"))
        #expect(!merged.text.contains("while n >= integer"))
        // What the rewrite left out and does not use stays too; the new import goes after the
        // others, the `__future__` one nowhere (it must open a file, and changes all of it).
        #expect(merged.text.contains("def fromRoman(s):\n    return len(s)"))
        #expect(merged.text.contains("import re\nimport sys\n"))
        #expect(!merged.text.contains("__future__"))
        #expect(merged.text.hasSuffix("if __name__ == \"__main__\":\n    print(toRoman(4))"))
    }

    @Test("a table the model saw and fixed replaces its namesake; functions it was not shown keep their old text")
    func unseenDefinitionsStay() throws {
        let rewrite = """
            romanNumeralMap = (('M', 1000), ('C', 100), ('XC', 90), ('X', 10), ('I', 1))

            def toRoman(n):
                return "fixed"

            def fromRoman(s):
                return 0

            def parse_args():
                return None
            """
        let merged = try #require(DefinitionMerge.merged(old: Self.module, new: rewrite, shown: ["toRoman"]))
        #expect(merged.unseen == ["fromRoman"])
        #expect(merged.text.contains("('XC', 90)"))
        #expect(merged.text.contains("return \"fixed\""))
        #expect(merged.text.contains("def fromRoman(s):\n    return len(s)"))
        // A new function goes before the `__main__` block.
        #expect(merged.text.contains("def parse_args():\n    return None\n\n\nif __name__"))
        #expect(merged.text.contains("class OutOfRangeError(ValueError):"))
    }

    @Test("nothing to merge: the model saw the whole file and its rewrite defines what it uses")
    func plainRewrite() {
        let rewrite = "def toRoman(n):\n    return str(n)\n"
        #expect(DefinitionMerge.merged(old: Self.module, new: rewrite) == nil)
        // Seen in part, but it rewrote only what it saw, the same way: nothing set aside.
        #expect(DefinitionMerge.merged(old: Self.module, new: rewrite, shown: ["toRoman"]) == nil)
    }

    @Test("module code the old file lacks cannot be placed: no merge, the write is judged as it is")
    func unplaceable() {
        let rewrite = "print('loading')\n\ndef toRoman(n):\n    return romanNumeralMap[0][0]\n"
        #expect(DefinitionMerge.merged(old: Self.module, new: rewrite) == nil)
    }

    @Test("a splice never adds a __future__ import beside the others")
    func spliceSkipsFuture() throws {
        let old = "import re\n\n\ndef a():\n    return 1\n\n\ndef b():\n    return 2\n"
        let spliced = try #require(DefinitionSplice.spliced(old: old, new: "from __future__ import annotations\n\ndef a():\n    return 3\n"))
        #expect(!spliced.text.contains("__future__"))
        #expect(spliced.text.contains("return 3"))
    }
}

@Suite("a write or edit of a path that does not exist, meant for one that does")
struct MisplacedPathTests {
    let files = ["src/roman/__init__.py", "src/roman/tests.py", "pkg/utils.py", "README.md"]
    let contents = [
        "src/roman/__init__.py": "def toRoman(n):\n    return 'I'\n",
        "pkg/utils.py": "def slugify(s):\n    return s\n",
    ]

    @Test("a Go test named the Python way is written, and edited, as Go's test file; a Go file that is no test keeps its name")
    func goTestName() {
        let test = "package strutil\n\nimport \"testing\"\n\nfunc TestReverse(t *testing.T) {}\n"
        #expect(MisplacedPath.intended("test_reverse.go", content: test, files: [], read: { _ in nil }) == "reverse_test.go")
        #expect(MisplacedPath.intended("pkg/test_reverse.go", content: test, files: ["pkg/test_reverse.go"], read: { _ in nil }) == "pkg/reverse_test.go")
        #expect(MisplacedPath.intended("test_reverse.go", search: "TestReverse", files: ["reverse_test.go"], read: { _ in test }) == "reverse_test.go")
        #expect(MisplacedPath.intended("test_data.go", content: "package strutil\n\nvar data = 1\n", files: [], read: { _ in nil }) == nil)
        #expect(MisplacedPath.intended("test_data.go", search: "x", files: ["test_data.go", "data_test.go"], read: { _ in "x" }) == nil)
        #expect(MisplacedPath.goTest("test_.go") == nil && MisplacedPath.goTest("a_test.go") == nil && MisplacedPath.goTest("test_a.py") == nil)
    }

    @Test("the package path as imported goes to the file as it lies, when the write defines what that file defines")
    func redirects() {
        #expect(MisplacedPath.intended("roman/__init__.py", content: "def toRoman(n):\n    return 'X'\n", files: files, read: { contents[$0] })
                == "src/roman/__init__.py")
        #expect(MisplacedPath.intended("roman/__init__.py", search: "return 'I'", files: files, read: { contents[$0] }) == "src/roman/__init__.py")
    }

    @Test("a path copied from the file list with its annotations goes to the file it names, for writes and edits alike")
    func listedPath() {
        for copied in ["src/roman/__init__.py (16) toRoman, fromRoman", "- src/roman/__init__.py (16): toRoman",
                       "src/roman/__init__.py, partly shown", "src/roman/__init__.py: toRoman", "- src/roman/__init__.py"] {
            #expect(MisplacedPath.intended(copied, content: "package x\n", files: files, read: { contents[$0] }) == "src/roman/__init__.py", "\(copied)")
            #expect(MisplacedPath.intended(copied, search: "nowhere", files: files, read: { contents[$0] }) == "src/roman/__init__.py", "\(copied)")
        }
        // A name that only looks annotated, for a file that is not there, is written as given.
        #expect(MisplacedPath.listed("notes (2).txt", files: files) == nil)
        #expect(MisplacedPath.listed("src/other.py (16)", files: files) == nil)
    }

    @Test("a new file that only shares a name, an edit whose text is elsewhere, an existing path, a non-Python write: as written")
    func leavesAlone() {
        #expect(MisplacedPath.intended("utils.py", content: "def helper():\n    return 1\n", files: files, read: { contents[$0] }) == nil)
        #expect(MisplacedPath.intended("roman/__init__.py", search: "return 'V'", files: files, read: { contents[$0] }) == nil)
        #expect(MisplacedPath.intended("src/roman/__init__.py", content: "def toRoman(n): pass\n", files: files, read: { contents[$0] }) == nil)
        #expect(MisplacedPath.intended("md", content: "x", files: files, read: { contents[$0] }) == nil)
    }
}

@Suite("failures cut for the model")
struct FailureTrimmerTests {
    @Test("pytest's and the import machinery's frames go, with their source lines; the workspace's stay")
    func toolingFrames() {
        let output = """
            ==================================== ERRORS ====================================
            _____________________ ERROR collecting test_inflection.py ______________________
            /usr/lib/python3/dist-packages/_pytest/python.py:618: in _importtestmodule
                mod = import_path(self.path, mode=importmode, root=self.config.rootpath)
            <frozen importlib._bootstrap>:1206: in _gcd_import
                ???
            /root/.venv/lib/python3.11/site-packages/pluggy/_hooks.py:501: in __call__
                return self._hookexec(self.name, self._hookimpls.copy(), kwargs, firstresult)
            test_inflection.py:4: in <module>
                import inflection
            E     File "/workspace/inflection/__init__.py", line 14
            E   SyntaxError: invalid syntax
            """
        let trimmed = FailureTrimmer.trim(output)
        #expect(!trimmed.contains("_pytest") && !trimmed.contains("frozen") && !trimmed.contains("pluggy") && !trimmed.contains("???"))
        #expect(!trimmed.contains("mod = import_path"))
        #expect(trimmed.contains("test_inflection.py:4: in <module>\n    import inflection"))
        #expect(trimmed.contains("SyntaxError: invalid syntax"))
    }
}
