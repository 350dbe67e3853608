import DoerCore
@testable import DoerAgent
import Foundation
import Testing

/// A numeral converter with the shape of roman's: a table and a loop, 90 missing from the table.
private enum Numerals {
    static let code = """
        TABLE = (('C', 100), ('L', 50), ('X', 10), ('IX', 9), ('V', 5), ('IV', 4), ('I', 1))


        def to_roman(n):
            result = ""
            for numeral, value in TABLE:
                while n >= value:
                    result += numeral
                    n -= value
            return result

        """
    static let task = "`numerals.to_roman(94)` returns 'LXXXXIV', but it should return 'XCIV'."
    static let specialCased = code.replacingOccurrences(of: "    result = \"\"\n", with: "    if n == 94:\n        return 'XCIV'\n    result = \"\"\n")
    static let fixed = code.replacingOccurrences(of: "('L', 50)", with: "('XC', 90), ('L', 50)")
}

@Suite("a change that writes the request's example into the code")
struct HardCodedExamplesTests {
    @Test("a special case for the stated input returning the stated value is found")
    func specialCase() {
        let found = HardCodedExamples.find(task: Numerals.task, changes: [(old: Numerals.code, new: Numerals.specialCased)])
        #expect(found == [HardCodedExamples.Finding(expression: "numerals.to_roman(94)", value: "'XCIV'")])
        // In double quotes, on one line, in a new file: the same.
        let oneLine = Numerals.code.replacingOccurrences(of: "    result = \"\"\n", with: "    if 94 == n: return \"XCIV\"\n    result = \"\"\n")
        #expect(HardCodedExamples.find(task: Numerals.task, changes: [(old: Numerals.code, new: oneLine)]).count == 1)
        #expect(HardCodedExamples.find(task: Numerals.task, changes: [(old: nil, new: Numerals.specialCased)]).count == 1)
        let member = Numerals.code.replacingOccurrences(of: "    result = \"\"\n", with: "    if n in (93, 94):\n        return {93: 'XCIII', 94: 'XCIV'}[n]\n    result = \"\"\n")
        #expect(HardCodedExamples.find(task: Numerals.task, changes: [(old: Numerals.code, new: member)]).count == 1)
    }

    @Test("a fix of the logic, a table entry, a documented example and a value the code had are not")
    func notSpecialCases() {
        #expect(HardCodedExamples.find(task: Numerals.task, changes: [(old: Numerals.code, new: Numerals.fixed)]).isEmpty)
        // The table entry a fix for 90 itself is made of.
        let ninety = "`to_roman(90)` returns 'LXXXX', but it should return 'XC'."
        #expect(HardCodedExamples.find(task: ninety, changes: [(old: Numerals.code, new: Numerals.fixed)]).isEmpty)
        let documented = Numerals.fixed.replacingOccurrences(of: "def to_roman(n):\n", with: """
            def to_roman(n):
                \"\"\"
                if n == 94 the result is 'XCIV':
                >>> to_roman(94)
                'XCIV'
                \"\"\"
                # if n == 94: return 'XCIV' was the old workaround

            """)
        #expect(HardCodedExamples.find(task: Numerals.task, changes: [(old: Numerals.code, new: documented)]).isEmpty)
        // A value the old code already held, compared again: not copied from the request.
        let had = Numerals.code + "\nSAMPLE = 'XCIV'\n"
        let comparing = had.replacingOccurrences(of: "    result = \"\"\n", with: "    if n == 94:\n        return SAMPLE if SAMPLE == 'XCIV' else ''\n    result = \"\"\n")
        #expect(HardCodedExamples.find(task: Numerals.task, changes: [(old: had, new: comparing)]).isEmpty)
        // A request with no stated value, or no distinctive input: nothing to find.
        #expect(HardCodedExamples.find(task: "make to_roman handle 94", changes: [(old: Numerals.code, new: Numerals.specialCased)]).isEmpty)
    }

    @Test("with the real sandbox: the special case is not a success, the model is told, and nothing is applied; the logic fixed passes")
    func inTheLoop() async throws {
        let files = ["numerals.py": Numerals.code, "test_numerals.py": "import numerals\n\n\ndef test_ten():\n    assert numerals.to_roman(10) == 'X'\n"]
        let ws = try AgentWorkspace(files: files)
        let special = Replies.files(["numerals.py": Numerals.specialCased])
        let model = ScriptedModel(replies: [0: [special, special]])
        let (events, summary) = try await AgentHarness.run(model, task: Numerals.task, in: ws, maxIterations: 2)
        #expect(summary.outcome != .passed, "\(summary.message)")
        #expect(!events.contains { if case .changesApplied = $0 { true } else { false } })
        #expect(ws.read("numerals.py") == Numerals.code)
        let second = try #require(model.recordedRequests.dropFirst().first?.messages.last?.content)
        #expect(second.contains("writes its example into the code (`numerals.to_roman(94)` → 'XCIV')"), "\(second)")

        let fixedWorkspace = try AgentWorkspace(files: files)
        let fixing = ScriptedModel(replies: [0: [Replies.files(["numerals.py": Numerals.fixed])]])
        let (_, passed) = try await AgentHarness.run(fixing, task: Numerals.task, in: fixedWorkspace, maxIterations: 2)
        #expect(passed.outcome == .passed, "\(passed.message)")
        #expect(fixedWorkspace.read("numerals.py") == Numerals.fixed)
    }

    @Test("a list or tuple argument compared as a whole is a special case too; in an assert line, the call and value are read like a request's")
    func bracketedInputs() {
        let old = "def spread(values):\n    return max(values) - max(values)\n"
        let gamed = "def spread(values):\n    if values == [12, 90, 45]:\n        return 78\n    return max(values) - max(values)\n"
        let found = HardCodedExamples.find(task: "def test_spread():\n    assert spread([12, 90, 45]) == 78\n", changes: [(old, gamed)])
        #expect(found == [HardCodedExamples.Finding(expression: "spread([12, 90, 45])", value: "78")], "\(found)")
        let tuple = "def spread(values):\n    if (12, 90) == values:\n        return 78\n    return 0\n"
        #expect(!HardCodedExamples.find(task: "assert spread((12, 90)) == 78", changes: [(old, tuple)]).isEmpty)
        let fixed = "def spread(values):\n    return max(values) - min(values)\n"
        #expect(HardCodedExamples.find(task: "assert spread([12, 90, 45]) == 78", changes: [(old, fixed)]).isEmpty)
    }
}
