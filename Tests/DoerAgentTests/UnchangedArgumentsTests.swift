import DoerCore
import DoerSandbox
@testable import DoerAgent
import Foundation
import Testing

/// "Create stats.py with median(values) … without changing the list it is given": code that
/// sorts the caller's list gives the right medians, and tests that compare only results pass.
private enum Median {
    static let task = "Create stats.py with median(values) that returns the median of a non-empty list of numbers, the mean of the two "
        + "middle values when there is an even number of them, without changing the list it is given. An empty list raises ValueError. Add tests."
    static let sorting = """
        def median(values):
            if not values:
                raise ValueError("empty")
            values.sort()
            middle = len(values) // 2
            return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2

        """
    static let copying = sorting.replacingOccurrences(of: "    values.sort()\n", with: "    values = sorted(values)\n")
    /// Compares results only, never the list afterwards.
    static let ownTest = """
        import pytest
        from stats import median


        def test_odd():
            assert median([3, 1, 2]) == 2


        def test_even():
            assert median([4, 1, 3, 2]) == 2.5


        def test_empty():
            with pytest.raises(ValueError):
                median([])

        """
    /// The test written apart: results only, imported inside the test body.
    static let check = Replies.files(["test_request_check.py": """
        def test_median_of_unsorted():
            from stats import median
            assert median([5, 3, 1, 4]) == 3.5

        """])
}

@Suite("a request that says its arguments stay unchanged is checked on every call the tests make")
struct UnchangedArgumentsTests {
    @Test("the rule is read from the ways people state it", arguments: [
        "without changing the list it is given",
        "The list passed in must not be changed.",
        "It must not modify its input.",
        "leaves the original list unchanged",
        "the input list stays untouched",
        "It returns a new list instead of mutating the argument.",
        "dedupe(items) does not sort in place",
        "Its arguments are never modified.",
        "keeping the caller's dict intact",
        "Leave the list that is passed in untouched.",
        "The dict the function receives stays unchanged.",
    ])
    func ruleIsRead(_ sentence: String) {
        #expect(UnchangedArguments.rule(in: "Create f.py with f(xs). " + sentence + " Add tests.") != nil, "\(sentence)")
    }

    @Test("rules about something else are not this one", arguments: [
        "Sort the list in place.",
        "without changing the order of equal elements",
        "It does not change the order of the words.",
        "The list is changed to hold the merged intervals.",
        "Fix the bug where the function changes its result on the second call.",
        "Create wordcount.py with top_words(text, n). Words with the same count come in alphabetical order.",
    ])
    func otherRulesAreNot(_ sentence: String) {
        #expect(UnchangedArguments.rule(in: sentence) == nil, "\(sentence)")
    }

    @Test("the rule's sentence is quoted; no plugin without a named function")
    func ruleAndNames() throws {
        #expect(UnchangedArguments.rule(in: Median.task)?.sentence.hasSuffix("without changing the list it is given") == true)
        #expect(UnchangedArguments.rule(in: Median.task)?.parameters == [], "\"the list\" names no parameter")
        let named = "Create lists.py with append_all(target, items) that appends the items to target, without changing `items`. Add tests."
        #expect(UnchangedArguments.rule(in: named)?.parameters == ["items"])
        #expect(UnchangedArguments.rule(in: "Fix add(a, b): it leaves a list unchanged.")?.parameters == [], "an article is no parameter")
        #expect(UnchangedArguments.plugin(for: "Fix the helper so it does not modify its input.") == nil, "no function named")
        let plugin = try #require(UnchangedArguments.plugin(for: Median.task))
        #expect(plugin.path == "doer_unchanged_arguments.py" && plugin.content.contains("_NAMES = [\"median\"]"))
    }

    @Test("the strategy loads the plugin on every pytest run, never as a test or a change")
    func strategyLoadsIt() {
        let strategy = TestStrategy.choose(files: [], task: Median.task)
        #expect(strategy.pytestPlugins.keys.sorted() == ["doer_unchanged_arguments.py"])
        #expect(strategy.command.joined(separator: " ").contains("-p no:cacheprovider --tb=short -p doer_unchanged_arguments"))
        #expect(!strategy.pytestTargets.contains("doer_unchanged_arguments.py"))
        #expect(strategy.writtenFiles["doer_unchanged_arguments.py"] != nil)
        let plain = TestStrategy.choose(files: [], task: "Create stats.py with median(values). Add tests.")
        #expect(plain.pytestPlugins.isEmpty && !plain.command.contains("doer_unchanged_arguments"))
        let go = TestStrategy.choose(files: ["go.mod", "stats.go", "stats_test.go"], task: "Change Median in stats.go without changing the slice it is given.")
        #expect(go.pytestPlugins.isEmpty, "only pytest runs load it")
    }

    @Test("the candidate sorts the caller's list; its own tests and the test written apart compare results only: the model is told, copies the list, verified")
    func mutationIsCaughtAndMended() async throws {
        let ws = try AgentWorkspace()
        let model = ScriptedModel(replies: [
            0: [Replies.files(["stats.py": Median.sorting, "test_stats.py": Median.ownTest]),
                Replies.files(["stats.py": Median.copying, "test_stats.py": Median.ownTest])],
            Replies.independentWriter: [Median.check],
        ])
        let (_, summary) = try await AgentHarness.run(model, task: Median.task, in: ws, approval: .never)
        let told = model.recordedRequests.contains { request in
            request.messages.last?.content.contains("median() changed its argument 1: it was [3, 1, 2] before the call and [1, 2, 3] after it") ?? false
        }
        #expect(told, "the failure names the call, both values and the request's words")
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(ws.read("stats.py") == Median.copying)
        #expect(ws.read("doer_unchanged_arguments.py") == nil, "the plugin is never applied")
    }

    @Test("the candidate keeps sorting the caller's list: not a success, nothing applied")
    func mutationStands() async throws {
        let ws = try AgentWorkspace()
        let model = ScriptedModel(replies: [0: [Replies.files(["stats.py": Median.sorting, "test_stats.py": Median.ownTest])],
                                            Replies.independentWriter: [Median.check]])
        let (_, summary) = try await AgentHarness.run(model, task: Median.task, in: ws, maxIterations: 2, approval: .never)
        #expect(summary.outcome != .passed, "\(summary.message)")
        #expect(!summary.applied && ws.read("stats.py") == nil && ws.read("test_stats.py") == nil)
    }

    @Test("the model cannot switch Doer's checks off: a write to the plugin is refused, a command removing it is undone before the tests")
    func checksStayOn() async throws {
        let ws = try AgentWorkspace()
        let neuter = Replies.files(["stats.py": Median.sorting, "test_stats.py": Median.ownTest, "doer_unchanged_arguments.py": "# nothing\n"])
            + "\n```run\nrm -f doer_unchanged_arguments.py test_doer_stated_rules.py\n```\n"
        let model = ScriptedModel(replies: [0: [neuter, neuter], Replies.independentWriter: [Median.check]])
        let (_, summary) = try await AgentHarness.run(model, task: Median.task, in: ws, maxIterations: 2, approval: .never)
        #expect(summary.outcome != .passed && !summary.applied, "\(summary.message)")
        let told = model.recordedRequests.contains { request in
            let last = request.messages.last?.content ?? ""
            return last.contains("Doer kept doer_unchanged_arguments.py as it was") && last.contains("median() changed its argument 1")
        }
        #expect(told, "refused, and the guard still ran after the command")
        #expect(ws.read("stats.py") == nil)
    }

    @Test("a rule naming a parameter checks that one: the argument the function is meant to change is left alone")
    func namedParameterOnly() async throws {
        let task = "Create lists.py with append_all(target, items) that appends each of the items to target and returns target, "
            + "without changing `items`. Add tests."
        let code = "def append_all(target, items):\n    target.extend(items)\n    return target\n"
        let test = "from lists import append_all\n\n\ndef test_appends():\n    assert append_all([1], [2, 3]) == [1, 2, 3]\n"
        let check = Replies.files(["test_request_check.py": "from lists import append_all\n\n\ndef test_order():\n    assert append_all([], [3, 1]) == [3, 1]\n"])
        let ws = try AgentWorkspace()
        let model = ScriptedModel(replies: [0: [Replies.files(["lists.py": code, "test_lists.py": test])], Replies.independentWriter: [check]])
        let (_, summary) = try await AgentHarness.run(model, task: task, in: ws, approval: .never)
        #expect(summary.outcome == .passed, "target is meant to change: \(summary.message)")

        let reversing = code.replacingOccurrences(of: "    target.extend(items)\n", with: "    items.reverse()\n    target.extend(reversed(items))\n")
        let other = try AgentWorkspace()
        let wrong = Replies.files(["lists.py": reversing, "test_lists.py": test])
        let strict = ScriptedModel(replies: [0: [wrong, wrong], Replies.independentWriter: [check]])
        let (_, refused) = try await AgentHarness.run(strict, task: task, in: other, maxIterations: 2, approval: .never)
        #expect(refused.outcome != .passed && !refused.applied, "\(refused.message)")
        let told = strict.recordedRequests.contains { $0.messages.last?.content.contains("append_all() changed its argument 'items'") ?? false }
        #expect(told, "the second turn is told which argument changed")
    }

    @Test("objects compared by identity, arguments that are not data, and calls that raise are left alone")
    func noFalseAlarms() async throws {
        let task = "Create shapes.py with area(shape, scale) that returns the area without changing the shape it is given. Add tests."
        let code = """
            class Square:
                def __init__(self, side):
                    self.side = side


            def area(shape, scale=(1,)):
                if shape is None:
                    raise ValueError("no shape")
                seen = getattr(shape, "seen", 0)
                shape.seen = seen + 1
                return shape.side * shape.side * scale[0]

            """
        let test = """
            import pytest
            from shapes import Square, area


            def test_area():
                assert area(Square(3)) == 9
                assert area(Square(2), (3,)) == 12


            def test_none():
                with pytest.raises(ValueError):
                    area(None, [1])

            """
        let ws = try AgentWorkspace()
        let model = ScriptedModel(replies: [0: [Replies.files(["shapes.py": code, "test_shapes.py": test])],
                                            Replies.independentWriter: [Replies.files(["test_request_check.py": test])]])
        let (_, summary) = try await AgentHarness.run(model, task: task, in: ws, approval: .never)
        #expect(summary.outcome == .passed, "an object without value equality is not compared: \(summary.message)")
    }
}
