import DoerCore
@testable import DoerAgent
import Foundation
import Testing

/// A package whose `ordinal` is left unwritten, its docstring the specification; its own
/// test passes before any change.
private let package: [String: String] = [
    "inflect/__init__.py": """
    def ordinal(number):
        \"\"\"
        Return the suffix of a position in an ordered sequence.

        Examples::

            >>> ordinal(1)
            'st'
            >>> ordinal(2)
            'nd'
            >>> ordinal(1003)
            'rd'
            >>> ordinal(-11)
            'th'
            >>> ordinal(-1021)
            'st'

        \"\"\"
        raise NotImplementedError


    def shout(text):
        \"\"\">>> shout('a')
        'A!'
        \"\"\"
        return text.upper() + "!"

    """,
    "tests/test_inflect.py": "from inflect import shout\n\n\ndef test_shout():\n    assert shout('b') == 'B!'\n",
]

private let rightOrdinal = """
def ordinal(number):
    n = abs(number)
    if n % 100 in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def shout(text):
    return text.upper() + "!"

"""

/// Right for every positive number the model's own test tries, wrong for negatives: the
/// docstring says so, the model's test does not.
private let positiveOnlyOrdinal = """
def ordinal(number):
    if number % 100 in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")


def shout(text):
    return text.upper() + "!"

"""

private let modelTest = "from inflect import ordinal\n\n\ndef test_ordinal():\n    assert ordinal(1) == 'st'\n    assert ordinal(12) == 'th'\n"

@Suite("the docstring examples of a function the request points at are Doer's own tests")
struct DocumentedExamplesTests {
    static let task = "`ordinal` in inflect is not implemented yet: it raises NotImplementedError. Implement it as its docstring describes."

    func asserts(_ task: String, _ files: [String: String]) -> [String] {
        DocumentedExamples.asserts(task: task, files: Array(files.keys).sorted(), read: { files[$0] })
    }

    @Test("an unwritten function's literal examples become asserts; a written one's only when the request points at its docs")
    func which() {
        let ordinal = asserts(Self.task, package)
        #expect(ordinal.count == 5, "\(ordinal)")
        #expect(ordinal.first?.hasPrefix("assert (ordinal(1)) == ('st')") == true, "\(ordinal)")
        #expect(ordinal.contains { $0.hasPrefix("assert (ordinal(-11)) == ('th')") })
        // `shout` is written: its docstring is read only when the request sends the reader there.
        #expect(asserts("`shout` drops the exclamation mark; fix it", package).isEmpty)
        #expect(asserts("fix `shout` so it behaves as documented", package).first?.hasPrefix("assert (shout('a')) == ('A!')") == true)
        // Named in prose only, or not at all: nothing.
        #expect(asserts("implement ordinal as its docstring describes", package).isEmpty)
        #expect(asserts("Implement `cardinal`.", package).isEmpty)
    }

    @Test("examples that could not be checked as written are left out")
    func strict() {
        let cases: [(String, Bool)] = [
            (">>> ordinal(1)\n'st'", true),
            (">>> inflect.ordinal(2)\n'nd'", true),
            (">>> ordinal(number=3)\n'rd'", true),
            (">>> ordinal(u\"x\")\nu'y'", true),
            (">>> ordinal([1, 2.5e3, -0x1F])\n{'a': (True, None)}", true),
            (">>> ordinal(1)  # doctest: +SKIP\n'st'", false),
            (">>> ordinal(n)\n'st'", false),
            (">>> ordinal(1)\n<Suffix 'st'>", false),
            (">>> ordinal(1)\n'st...'", true),
            (">>> ordinal(1)\n[1, ...]", false),
            (">>> ordinal(1)\nSuffix('st')", false),
            (">>> ordinal(1)\nTraceback (most recent call last):", false),
            (">>> other(1)\n'st'", false),
            (">>> ordinal(1) + ordinal(2)\n'stnd'", false),
            (">>> print(ordinal(1))\nst", false),
            (">>> list(ordinal([1, 2], 3))\n[[1, 2]]", true),
            (">>> sorted(inflect.ordinal({3, 1}))\n[1, 3]", true),
            (">>> list(ordinal(x))\n[]", false),
            (">>> list(ordinal(1), 2)\n[]", false),
            (">>> list(other(1))\n[]", false),
            (">>> mylist(ordinal(1))\n[]", false),
            (">>> ordinal(1)\n'st'\n'more'", false),
            (">>> ordinal('unterminated)\n'st'", false),
        ]
        for (docstring, taken) in cases {
            let examples = DocumentedExamples.examples(inDocstring: docstring, calling: "ordinal")
            #expect(examples.isEmpty != taken, "\(docstring): \(examples)")
        }
    }

    @Test("test files, methods and functions without a docstring are not read")
    func scope() {
        var files = package
        files["tests/test_more.py"] = "def ordinal(n):\n    \"\"\">>> ordinal(5)\n    'zz'\n    \"\"\"\n    raise NotImplementedError\n"
        files["inflect/cls.py"] = "class A:\n    def ordinal(self):\n        \"\"\">>> ordinal(7)\n        'qq'\n        \"\"\"\n        pass\n"
        let found = asserts(Self.task, files)
        #expect(found.count == 5 && !found.contains { $0.contains("'zz'") || $0.contains("'qq'") }, "\(found)")
    }

    @Test("code that passes the model's own test but not the docstring's examples does not pass")
    func docstringDecides() async throws {
        let ws = try AgentWorkspace(files: package)
        let model = ScriptedModel(replies: [0: [Replies.files(["inflect/__init__.py": positiveOnlyOrdinal, "tests/test_ordinal.py": modelTest])]])
        let (_, summary) = try await AgentHarness.run(model, task: Self.task, in: ws, maxIterations: 1, approval: .never)
        #expect(summary.outcome != .passed, "\(summary.message)")
        #expect(ws.read("inflect/__init__.py") == package["inflect/__init__.py"], "an unproven change was applied")
    }

    @Test("code that does what the docstring shows passes, with the docstring's examples as the evidence")
    func docstringIsEvidence() async throws {
        let ws = try AgentWorkspace(files: package)
        let model = ScriptedModel(replies: [0: [Replies.files(["inflect/__init__.py": rightOrdinal])]])
        let (_, summary) = try await AgentHarness.run(model, task: Self.task, in: ws, approval: .never)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(summary.message.contains("test_doer_examples.py"), "\(summary.message)")
        #expect(ws.read("inflect/__init__.py") == rightOrdinal)
    }
}
