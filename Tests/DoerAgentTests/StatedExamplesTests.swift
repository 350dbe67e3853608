@testable import DoerAgent
import Testing

@Suite("the examples a request states become Doer's own tests")
struct StatedExamplesTests {
    @Test("calls compared with a literal, in the ways people write them")
    func forms() {
        let cases: [(String, [String])] = [
            ("Write greet.py, for example greet('Ada') == 'Hello, Ada!'", ["(greet('Ada')) == ('Hello, Ada!')"]),
            ("Create roman.py with to_roman(n); to_roman(1994) should return 'MCMXCIV' and to_roman(4) -> 'IV'.",
             ["(to_roman(1994)) == ('MCMXCIV')", "(to_roman(4)) == ('IV')"]),
            ("spread([1, 5, 3]) returns 0 but it should be 4", ["(spread([1, 5, 3])) == (4)"]),
            ("count(xs) returns {False: 10, True: 8} but it should be {False: 9, True: 6}",
             ["(count(xs)) == ({False: 9, True: 6})"]),
            ("mean([]) returns 0 instead of None", ["(mean([])) == (None)"]),
            ("`clamp(15, 0, 10)` gives `10`", ["(clamp(15, 0, 10)) == (10)"]),
            ("is_even(-3) is False", ["(is_even(-3)) == (False)"]),
        ]
        for (task, wanted) in cases {
            let asserts = StatedExamples.asserts(in: task)
            #expect(asserts.count == wanted.count, "\(task): \(asserts)")
            for (assert, want) in zip(asserts, wanted) {
                #expect(assert.hasPrefix("assert " + want), "\(task): \(assert)")
            }
        }
    }

    @Test("raises becomes pytest.raises")
    func raises() {
        let asserts = StatedExamples.asserts(in: "parse('') should raise ValueError, and parse('x') raises KeyError")
        #expect(asserts == ["with pytest.raises(ValueError):\n        parse('')", "with pytest.raises(KeyError):\n        parse('x')"])
        // What it returns now is the defect; the error it should raise is wanted.
        let report = "`unparse({'a': {'#comment': 'x -- y'}})` returns '<a><!--x -- y--></a>', but it should raises ValueError: Comment text cannot contain '--'."
        #expect(StatedExamples.asserts(in: report) == ["with pytest.raises(ValueError):\n        unparse({'a': {'#comment': 'x -- y'}})"])
        #expect(StatedExamples.asserts(in: "load('') returns None but it should raise EmptyError") == ["with pytest.raises(EmptyError):\n        load('')"])
        // The project's own error is looked up where the project defines it, like a called name.
        #expect(ExampleTests.calledNames(in: ["with pytest.raises(EmptyError):\n        load('')"]) == "[\"EmptyError\", \"load\"]")
    }

    @Test("prose without a stated value, definitions, doctest lines and 'returns X but' without the wanted value give nothing")
    func nothing() {
        for task in ["Write def slugify(text): that lowercases", "call foo(x) when ready", ">>> f(2)\n4",
                     "spread([1, 2]) returns 0 but that is wrong", "print(x) is not needed"] {
            #expect(StatedExamples.asserts(in: task).isEmpty, "\(task): \(StatedExamples.asserts(in: task))")
        }
    }

    @Test("what the request says of empty input, in words, about its one function of one parameter")
    func emptyInput() {
        let cases: [(String, [String])] = [
            ("Create stats.py with median(values) that returns the median of a non-empty list of numbers. An empty list raises ValueError. Add tests.",
             ["with pytest.raises(ValueError):\n        median([])"]),
            ("Create duration.py with parse_duration(text) that returns seconds for '2h' or '1h30m'. Anything else, an empty string included, raises ValueError.",
             ["with pytest.raises(ValueError):\n        parse_duration('')"]),
            ("Create humanize.py with join_list(items): an empty list gives an empty string, one item is itself.",
             ["assert (join_list([])) == ('')"]),
            ("Write total(prices) in cart.py; it returns 0 for an empty list and raises TypeError for an empty dict.",
             ["with pytest.raises(TypeError):\n        total({})", "assert (total([])) == (0)"]),
            ("parse(text) in conf.py: if the string is empty, raise EmptyError.", ["with pytest.raises(EmptyError):\n        parse('')"]),
            // The error is another input's; the empty list's value is stated.
            ("Create stats.py with median(values). An empty list returns None, and a list with None raises ValueError.",
             ["assert (median([])) == (None)"]),
            // Several functions: the sentence names the one it is about.
            ("Create rle.py with encode(text) and decode(text). decode raises ValueError for an empty string.",
             ["with pytest.raises(ValueError):\n        decode('')"]),
        ]
        for (task, wanted) in cases {
            let asserts = EmptyInputExamples.asserts(in: task)
            #expect(asserts.count == wanted.count, "\(task): \(asserts)")
            for (assert, want) in zip(asserts, wanted) {
                #expect(assert.hasPrefix(want), "\(task): \(assert)")
            }
        }
        let strategy = TestStrategy.choose(files: [], task: cases[0].0)
        #expect(strategy.generatedFiles[TestStrategy.rulesFile]?.contains("median([])") == true)
        #expect(strategy.generatedFiles[TestStrategy.examplesFile] == nil, "a rule is not an example of the request")
    }

    @Test("empty input said of something else, of a function of two parameters, or with the error elsewhere gives nothing", arguments: [
        "Create wordcount.py with top_words(text, n). An empty text raises ValueError.",
        "Create rle.py with encode(text) and decode(text). An empty string raises ValueError.",
        "Create stats.py with median(values). An empty list is fine; otherwise a list with a string raises TypeError.",
        "Create stats.py with median(values) that takes a non-empty list and raises ValueError for strings.",
        "Fix the empty-list case of median.",
    ])
    func emptyInputNothing(_ task: String) {
        #expect(EmptyInputExamples.asserts(in: task).isEmpty, "\(task): \(EmptyInputExamples.asserts(in: task))")
    }

    @Test("only requests about Python get Python asserts")
    func language() {
        #expect(StatedExamples.isPython(task: "Write greet.py: greet('Ada') == 'Hello, Ada!'", files: []))
        #expect(!StatedExamples.isPython(task: "Write greet.js: greet('Ada') === 'Hello, Ada!'", files: ["package.json"]))
        #expect(!StatedExamples.isPython(task: "In main.go, Add(2, 3) should return 5", files: ["main.go", "go.mod"]))
    }
}
