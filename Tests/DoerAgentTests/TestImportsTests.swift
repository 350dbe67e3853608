import DoerCore
@testable import DoerAgent
import Foundation
import Testing

@Suite("imports completed in the model's tests")
struct TestImportsTests {
    static let solution = """
        import math


        def fruit_distribution(s, n):
            return n - sum(int(w) for w in s.split() if w.isdigit())


        class Basket:
            pass

        def _helper():
            def inner():
                pass
        """

    @Test("a test calling the module's function and class without importing them gets one import line, then a gap")
    func addsImport() throws {
        let test = "def test_fruit():\n    assert fruit_distribution(\"5 apples and 6 oranges\", 19) == 8\n    assert Basket() is not None\n"
        let completed = try #require(TestImports.completed(test: test, modules: ["solution": Self.solution]))
        #expect(completed == "from solution import Basket, fruit_distribution\n\n\n" + test)
    }

    @Test("pytest and standard modules used by name without an import get `import NAME`; attributes and imported ones do not")
    func standardModules() throws {
        let test = "from solution import Basket\n\n\ndef test_raises():\n    with pytest.raises(ValueError):\n        Basket()\n    assert math.isclose(0.1 + 0.2, 0.3)\n"
        let completed = try #require(TestImports.completed(test: test, modules: ["solution": Self.solution]))
        #expect(completed.hasPrefix("import math\nimport pytest\nfrom solution import Basket"), "\(completed)")
        let imported = "import pytest\nfrom solution import Basket\n\n\ndef test_x():\n    with pytest.raises(ValueError):\n        Basket()\n    x = Basket()\n    assert x.math.y == 1\n"
        #expect(TestImports.completed(test: imported, modules: ["solution": Self.solution]) == nil,
                "pytest is imported and `x.math` is an attribute, not the module")
    }

    @Test("names the test imports, defines or assigns itself, or calls as methods, are left alone")
    func boundNames() {
        let modules = ["solution": Self.solution]
        for test in [
            "from solution import fruit_distribution\n\ndef test_a():\n    assert fruit_distribution('1 a', 2) == 1\n",
            "from solution import (fruit_distribution)\n\ndef test_a():\n    assert fruit_distribution('1 a', 2) == 1\n",
            "from solution import fruit_distribution as fd, Basket\n\ndef test_a():\n    assert fd('1 a', 2) == 1 and Basket()\n",
            "import solution\n\ndef test_a():\n    assert solution.fruit_distribution('1 a', 2) == 1\n",
            "def fruit_distribution(s, n):\n    return 0\n\ndef test_a():\n    assert fruit_distribution('1 a', 2) == 0\n",
            "fruit_distribution = lambda s, n: 0\n\ndef test_a():\n    assert fruit_distribution('1 a', 2) == 0\n",
            "def test_a():\n    basket = object()\n    assert basket.fruit_distribution('1 a', 2) == 1\n",
        ] {
            #expect(TestImports.completed(test: test, modules: modules) == nil, "\(test)")
        }
        // Only top-level definitions count: `inner` is nested; `math` is not taken from the
        // module's own import but imported as the standard module it is.
        let nested = "def test_a():\n    assert inner() is None and _helper() is None and math.sqrt(4) == 2\n"
        #expect(TestImports.completed(test: nested, modules: modules) == "import math\nfrom solution import _helper\n\n\n" + nested)
        #expect(TestImports.topLevelDefinitions(in: Self.solution) == ["fruit_distribution", "Basket", "_helper"])
    }

    @Test("a star import of the module, or a name two modules define, is left as the model wrote it")
    func unclear() {
        let test = "def test_a():\n    assert fruit_distribution('1 a', 2) == 1\n"
        #expect(TestImports.completed(test: "from solution import *\n" + test, modules: ["solution": Self.solution]) == nil)
        #expect(TestImports.completed(test: test, modules: ["solution": Self.solution, "other": "def fruit_distribution(s, n):\n    return 1\n"]) == nil)
        #expect(TestImports.completed(test: test, modules: [:]) == nil)
    }

    @Test("`from __future__` stays the first statement")
    func future() throws {
        let test = "from __future__ import annotations\ndef test_a():\n    assert fruit_distribution('1 a', 2) == 1\n"
        let completed = try #require(TestImports.completed(test: test, modules: ["solution": Self.solution]))
        #expect(completed.hasPrefix("from __future__ import annotations\nfrom solution import fruit_distribution\n\n\ndef test_a():"))
    }

    @Test("the modules a test can import are the non-test .py files in its folder")
    func modulesBeside() {
        let files = ["solution.py", "test_solution.py", "conftest.py", "util_test.py", "pkg/other.py", "notes.txt", "bad-name.py"]
        let modules = TestImports.modules(beside: "test_solution.py", files: files, read: { "# \($0)" })
        #expect(modules == ["solution": "# solution.py"])
        #expect(TestImports.modules(beside: "pkg/test_other.py", files: files, read: { "# \($0)" }) == ["other": "# pkg/other.py"])
    }

    @Test("a test in tests/ gets the import through the package that defines the name, src/ layout too; a module beside the test is not counted twice")
    func packageImports() throws {
        let files: [String: String] = [
            "src/colors/__init__.py": "from colors._conversion import to_rgb\n",
            "src/colors/_types.py": "class IntegerRGB:\n    pass\n",
            "src/colors/_conversion.py": "def to_rgb(text):\n    return text\n",
            "scripts/tool.py": "class IntegerRGB:\n    pass\n",  // not a package: no import path reaches it
            "tests/test_colors.py": "",
            "pkg/__init__.py": "", "pkg/shapes.py": "def area(s):\n    return 0\n", "pkg/test_shapes.py": "",
        ]
        let packages = TestImports.packageModules(files: Array(files.keys), read: { files[$0] })
        #expect(Set(packages.map(\.name)) == ["colors", "colors._types", "colors._conversion", "pkg", "pkg.shapes"])
        let test = "def test_rgb():\n    assert to_rgb('x') == 'x'\n    assert IntegerRGB() is not None\n"
        let modules = TestImports.importable(by: "tests/test_colors.py", files: Array(files.keys), packages: packages, read: { files[$0] })
        let completed = try #require(TestImports.completed(test: test, modules: modules))
        #expect(completed.hasPrefix("from colors._conversion import to_rgb\nfrom colors._types import IntegerRGB\n"), "\(completed)")
        // Beside its module, a test imports it by file name, as before.
        let beside = TestImports.importable(by: "pkg/test_shapes.py", files: Array(files.keys), packages: packages, read: { files[$0] })
        let shapes = try #require(TestImports.completed(test: "def test_area():\n    assert area(1) == 0\n", modules: beside))
        #expect(shapes.hasPrefix("from shapes import area\n"), "\(shapes)")
    }

    @Test("an import from the package top of a name only one of its modules defines is pointed at that module; what the top binds stays")
    func correctedImports() throws {
        let modules: [String: String] = [
            "isodate": "from isodate.isodates import parse_date\nfrom isodate.duration import Duration\n__all__ = ['parse_date']\n",
            "isodate.duration": "def max_days_in_month(year, month):\n    raise NotImplementedError\n\n\nclass Duration:\n    pass\n",
            "isodate.isodates": "def parse_date(text):\n    return text\n",
        ]
        let test = "import pytest\nfrom isodate import max_days_in_month, parse_date\n\n\ndef test_feb():\n    assert max_days_in_month(2024, 2) == 29\n"
        let corrected = try #require(TestImports.correctedImports(test: test, modules: modules))
        #expect(corrected == "import pytest\nfrom isodate import parse_date\nfrom isodate.duration import max_days_in_month\n\n\ndef test_feb():\n    assert max_days_in_month(2024, 2) == 29\n")
        // Nothing to correct: the top binds it (imported), or no module or two modules define it, or a star import may bind it.
        #expect(TestImports.correctedImports(test: "from isodate import Duration, parse_date\n", modules: modules) == nil)
        #expect(TestImports.correctedImports(test: "from isodate import nowhere\n", modules: modules) == nil)
        var twice = modules
        twice["isodate.tzinfo"] = "def max_days_in_month(y, m):\n    return 30\n"
        #expect(TestImports.correctedImports(test: test, modules: twice) == nil)
        var star = modules
        star["isodate"] = "from isodate.duration import *\n"
        #expect(TestImports.correctedImports(test: test, modules: star) == nil)
        // A module that is not the workspace's is left alone.
        #expect(TestImports.correctedImports(test: "from os import max_days_in_month\n", modules: modules) == nil)
    }
}

@Suite("imports are completed in the model's new tests only")
struct TestImportsScopeTests {
    @Test("a test the workspace had is the user's: rewritten by the model without its import, Doer does not add one")
    func workspaceTestLeftAlone() async throws {
        let ws = try AgentWorkspace(files: [
            "pkg/__init__.py": "", "pkg/core.py": "def double(x):\n    return x * 3\n",
            "tests/test_core.py": "from pkg.core import double\n\n\ndef test_zero():\n    assert double(0) == 0\n",
        ])
        let rewritten = "def test_zero():\n    assert double(0) == 0\n"
        let model = ScriptedModel(replies: [0: [Replies.files(["tests/test_core.py": rewritten,
                                                               "tests/test_double.py": "def test_two():\n    assert double(2) == 4\n"])]])
        let (events, _) = try await AgentHarness.run(model, task: "double(2) returns 6 but it should return 4; fix double in pkg/core.py", in: ws,
                                                      maxIterations: 1, approval: .never)
        let writes = events.compactMap { event -> (String, String)? in
            if case .action(_, .writeFile(let path, let content)) = event { return (path, content) } else { return nil }
        }
        #expect(writes.filter { $0.0 == "tests/test_core.py" }.map(\.1) == [rewritten], "only the model's own write")
        // The model's new test gets the import through the package.
        #expect(writes.contains { $0.0 == "tests/test_double.py" && $0.1.hasPrefix("from pkg.core import double\n") })
    }
}
