import DoerCore
@testable import DoerAgent
import DoerSandbox
import Foundation
import Testing

/// A package with the shape of inflection's ordinals: `ordinalize` formats, `ordinal` (the
/// fault: 13 is missing from the teens) picks the suffix and takes numbers as strings too.
/// Its tests of `ordinal`/`ordinalize` are not in the workspace, as when the project has none.
private enum Ordinals {
    static let code = #"""
        def ordinal(number):
            """
            The suffix for a number.

                >>> ordinal(1)
                'st'
                >>> ordinal(1002)
                'nd'
            """
            number = abs(int(number))
            if number % 100 in (11, 12):
                return "th"
            return {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")


        def ordinalize(number):
            """
                >>> ordinalize(1)
                '1st'
            """
            return "{}{}".format(number, ordinal(number))


        def dasherize(word):
            return word.replace("_", "-")

        """#
    static let tests = """
        import ordinals


        def test_dasherize():
            assert ordinals.dasherize("a_b") == "a-b"
        """
    static let files = ["ordinals/__init__.py": code, "test_ordinals.py": tests]
    static let task = "`ordinals.ordinalize(113)` returns '113rd', but it should return '113th'."

    /// The request's example passes, but `ordinalize` now does arithmetic on what it is given.
    static let rewrittenCaller = code.replacingOccurrences(of: #"    return "{}{}".format(number, ordinal(number))"#, with: """
            if number % 100 in (11, 12, 13):
                return "{}th".format(number)
            return "{}{}".format(number, ordinal(number))
        """)
    /// The fault mended where it is.
    static let fixedCallee = code.replacingOccurrences(of: "in (11, 12):", with: "in (11, 12, 13):")
}

@Suite("a change that passes the request's tests but breaks what the code did for other inputs")
struct BehaviourProbeTests {
    @Test("rewritten top-level functions are found; unchanged, new and nested ones are not")
    func rewritten() {
        let old = "def a():\n    return 1\n\n\ndef b():\n    return 2\n\n\nclass C:\n    def m(self):\n        return 3\n"
        let new = "def a():\n    return 1\n\n\ndef b():\n    return 20\n\n\ndef d():\n    return 4\n\n\nclass C:\n    def m(self):\n        return 30\n"
        #expect(BehaviourProbe.rewrittenFunctions(old: old, new: new) == ["b"])
    }

    @Test("a function that reads a table the change edited counts as changed; one that does not read it does not")
    func readsAChangedTable() {
        let old = "TABLE = (('X', 10), ('I', 1))\nLIMIT: int = 10\n\n\ndef to_roman(n):\n    return [v for _, v in TABLE]\n\n\ndef other(n):\n    return n == LIMIT\n"
        let new = old.replacingOccurrences(of: "(('X', 10),", with: "(('XC', 90), ('X', 10),")
        #expect(BehaviourProbe.rewrittenFunctions(old: old, new: new) == ["to_roman"])
        #expect(BehaviourProbe.rewrittenFunctions(old: old, new: new.replacingOccurrences(of: "LIMIT: int = 10", with: "LIMIT: int = 20"))
                    == ["other", "to_roman"])
    }

    @Test("a module is named from the top or from an import root; a path no import reaches is not")
    func modules() {
        #expect(BehaviourProbe.module(of: "src/inflection/__init__.py", importRoots: ["src"]) == "inflection")
        #expect(BehaviourProbe.module(of: "boltons/strutils.py", importRoots: []) == "boltons.strutils")
        #expect(BehaviourProbe.module(of: "app.py", importRoots: ["src"]) == "app")
        #expect(BehaviourProbe.module(of: "my-scripts/run.py", importRoots: []) == nil)
        #expect(BehaviourProbe.module(of: "README.md", importRoots: []) == nil)
    }

    @Test("only an input answered before and not after counts; errors do not when the request asks for them")
    func judging() {
        typealias Seen = BehaviourProbe.Observation
        let before = [
            "f a": Seen(function: "f", call: "f('1')", key: "a", returned: "'1st'", none: false),
            "f b": Seen(function: "f", call: "f(2)", key: "b", returned: "'2nd'", none: false),
            "f c": Seen(function: "f", call: "f(None)", key: "c", raised: "TypeError", message: "bad"),
            "f d": Seen(function: "f", call: "f(3)", key: "d", returned: "'3rd'", none: false),
            "f e": Seen(function: "f", call: "f(4)", key: "e", returned: "'4th'", none: false),
        ]
        let after = [
            "f a": Seen(function: "f", call: "f('1')", key: "a", raised: "TypeError", message: "not all arguments converted"),
            "f b": Seen(function: "f", call: "f(2)", key: "b", returned: "'2th'", none: false),
            "f c": Seen(function: "f", call: "f(None)", key: "c", returned: "''", none: false),
            "f d": Seen(function: "f", call: "f(3)", key: "d", returned: "None", none: true),
            "f e": Seen(function: "f", call: "f(4)", key: "e", timeout: true),
        ]
        let found = BehaviourProbe.regressions(before: before, after: after, task: "f(13) should be '13th'")
        #expect(found.map(\.call) == ["f('1')", "f(3)", "f(4)"])
        #expect(found.first?.sentence == "`f('1')` returned '1st' before the change and now raises TypeError: not all arguments converted")
        let askedForErrors = BehaviourProbe.regressions(before: before, after: after, task: "f('x') should raise ValueError")
        #expect(askedForErrors.map(\.call) == ["f(3)", "f(4)"])
    }

    @Test("for a refactor every result must stay, object addresses aside; an error where a value was counts too")
    func sameResults() {
        typealias Seen = BehaviourProbe.Observation
        let before = [
            "h a": Seen(function: "h", call: "h(1)", key: "a", returned: "2.0", none: false),
            "h b": Seen(function: "h", call: "h(2)", key: "b", returned: "<Node object at 0x7f00aa>", none: false),
            "h c": Seen(function: "h", call: "h(3)", key: "c", returned: "3", none: false),
            "h d": Seen(function: "h", call: "h(4)", key: "d", returned: "4", none: false),
        ]
        let after = [
            "h a": Seen(function: "h", call: "h(1)", key: "a", returned: "2", none: false),
            "h b": Seen(function: "h", call: "h(2)", key: "b", returned: "<Node object at 0x7f11bb>", none: false),
            "h c": Seen(function: "h", call: "h(3)", key: "c", returned: "3", none: false),
            "h d": Seen(function: "h", call: "h(4)", key: "d", raised: "ValueError", message: "no"),
        ]
        let refactor = "Refactor h without changing behaviour"
        #expect(BehaviourProbe.regressions(before: before, after: after, task: refactor, sameResults: true).map(\.call) == ["h(1)", "h(4)"])
        #expect(BehaviourProbe.regressions(before: before, after: after, task: "h(9) should raise ValueError").isEmpty)
    }

    @Test("a docstring example's result the old code gave and the new one does not is a regression, unless the request is about that call")
    func documentedResults() {
        typealias Seen = BehaviourProbe.Observation
        let before = [
            "g a": Seen(function: "g", call: "g(4)", key: "a", returned: "'IV'", none: false, documented: "'IV'"),
            "g b": Seen(function: "g", call: "g(9)", key: "b", returned: "'VIIII'", none: false, documented: "'IX'"),
            "g c": Seen(function: "g", call: "g(40)", key: "c", returned: "'XL'", none: false, documented: "'XL'"),
            "g d": Seen(function: "g", call: "g(6)", key: "d", returned: "'VI'", none: false),
        ]
        let after = [
            "g a": Seen(function: "g", call: "g(4)", key: "a", returned: "'IIII'", none: false),
            "g b": Seen(function: "g", call: "g(9)", key: "b", returned: "'IX'", none: false),
            "g c": Seen(function: "g", call: "g(40)", key: "c", returned: "'XXXX'", none: false),
            "g d": Seen(function: "g", call: "g(6)", key: "d", returned: "'IIIIII'", none: false),
        ]
        let found = BehaviourProbe.regressions(before: before, after: after, task: "`g( 40 )` returns 'XL' but it should return 'XXXX'")
        #expect(found.map(\.sentence) == ["`g(4)` returned 'IV' as its docstring shows before the change and now returns 'IIII'"])
    }

    @Test("the helper calls a function with the workspace's literal calls, parametrize rows, doctests and near variants, in the sandbox")
    func observes() async throws {
        let ws = try AgentWorkspace(files: [
            "pkg/__init__.py": "",
            "pkg/text.py": #"""
                def shout(word, times=1):
                    """
                        >>> shout("hi")
                        'HI!'
                    """
                    print("noise on stdout")
                    return (word.upper() + "!") * times


                def spin(n):
                    while n > 30:
                        pass
                    return n
                """#,
            "tests/test_text.py": """
                import pytest
                from pkg.text import shout, spin


                @pytest.mark.parametrize("word, expected", [("a", "A!"), ("bc", "BC!")])
                def test_shout(word, expected):
                    assert shout(word) == expected


                def test_twice():
                    assert shout("x", times=2) == "X!X!"
                    assert spin(3) == 3
                """,
        ])
        let sandbox = try SandboxFactory(configuration: SandboxConfiguration(
            stagingRoot: URL(fileURLWithPath: "/tmp/doer-probe-sandbox-\(getpid())", isDirectory: true))).make()
        let probe = BehaviourProbe(sandbox: sandbox, limits: ResourceLimits(wallClockSeconds: 30), environment: [:], importRoots: [])
        let seen = try #require(await probe.observe([BehaviourProbe.Target(module: "pkg.text", functions: ["shout", "spin"])], in: ws.url))
        let calls = Dictionary(seen.values.map { ($0.call, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(calls["shout('hi')"]?.returned == "'HI!'", "\(calls.keys.sorted())")
        #expect(calls["shout('hi')"]?.documented == "'HI!'")
        #expect(calls["shout('a')"]?.documented == nil)
        #expect(calls["shout('a')"]?.returned == "'A!'")
        #expect(calls["shout('bc')"]?.returned == "'BC!'")
        #expect(calls["shout('x', times=2)"]?.returned == "'X!X!'")
        // Variants: the empty string, and the argument's other type, which raises here.
        #expect(calls["shout('')"]?.returned == "'!'")
        #expect(calls["shout(1)"] == nil, "a string of no digits has no number variant")
        #expect(calls["spin('3')"]?.raised == "TypeError")
        #expect(calls["spin(31)"]?.timeout == true, "\(calls["spin(31)"]?.described ?? "not called")")
        // Both functions are observed; nothing the function printed is read as a result.
        #expect(seen.values.allSatisfy { $0.function == "shout" || $0.function == "spin" })
    }

    @Test("a fix that rewrites the caller so the stated example passes, but the strings every caller passed now raise, is not a success")
    func rewrittenCallerFails() async throws {
        let ws = try AgentWorkspace(files: Ordinals.files)
        let reply = Replies.files(["ordinals/__init__.py": Ordinals.rewrittenCaller])
        let model = ScriptedModel(replies: [0: [reply, reply]])
        let (events, summary) = try await AgentHarness.run(model, task: Ordinals.task, in: ws, maxIterations: 2)
        #expect(summary.outcome != .passed, "\(summary.message)")
        #expect(!events.contains { if case .changesApplied = $0 { true } else { false } })
        #expect(ws.read("ordinals/__init__.py") == Ordinals.code)
        // The model was told which input broke, in its second turn.
        let second = try #require(model.recordedRequests.dropFirst().first?.messages.last?.content)
        #expect(second.contains("`ordinalize('1')` returned '1st' before the change and now raises TypeError"), "\(second)")
        #expect(second.contains("fix it there"))
    }

    @Test("the fault mended where it is passes, red to green, and is applied")
    func fixedCalleePasses() async throws {
        let ws = try AgentWorkspace(files: Ordinals.files)
        let model = ScriptedModel(replies: [0: [Replies.files(["ordinals/__init__.py": Ordinals.fixedCallee])]])
        let (_, summary) = try await AgentHarness.run(model, task: Ordinals.task, in: ws, maxIterations: 2)
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(ws.read("ordinals/__init__.py") == Ordinals.fixedCallee)
    }
}
