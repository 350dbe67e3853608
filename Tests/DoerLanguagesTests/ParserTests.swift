import DoerCore
import DoerLanguages
import Testing

/// The report parsers against output captured from the real frameworks.
@Suite("test output parsers")
struct ParserTests {
    @Test("node's TAP: leaves are tests, a describe block is not; assertions fail, throws error")
    func nodeTAP() {
        let output = """
        TAP version 13
        # Subtest: adds
        ok 1 - adds
          ---
          duration_ms: 0.5
          ...
        # Subtest: adds wrongly
        not ok 2 - adds wrongly
          ---
          failureType: 'testCodeFailure'
          error: |-
            two and two make four

            4 !== 5

          code: 'ERR_ASSERTION'
          name: 'AssertionError'
          ...
        # Subtest: group
            # Subtest: inner fails
            not ok 1 - inner fails
              ---
              failureType: 'testCodeFailure'
              error: 'boom'
              code: 'ERR_TEST_FAILURE'
              ...
            # Subtest: inner ok
            ok 2 - inner ok
              ---
              ...
            1..2
        not ok 3 - group
          ---
          type: 'suite'
          failureType: 'subtestsFailed'
          error: '1 subtest failed'
          ...
        1..3
        # tests 4
        # pass 2
        """
        let tests = TAPParser.parse(output).tests
        #expect(tests.map(\.name) == ["adds", "adds wrongly", "inner fails", "inner ok"])
        #expect(tests.map(\.status) == [.passed, .failed, .errored, .passed])
        #expect(tests[1].message == "two and two make four\n\n4 !== 5")
        #expect(tests[2].message == "boom")
    }

    @Test("a file that fails to load under node is one errored test, not silence")
    func nodeLoadFailure() {
        let output = """
        TAP version 13
        # Subtest: /workspace/broken.test.js
        not ok 1 - /workspace/broken.test.js
          ---
          failureType: 'testCodeFailure'
          exitCode: 1
          error: 'test failed'
          code: 'ERR_TEST_FAILURE'
          ...
        1..1
        """
        let tests = TAPParser.parse(output).tests
        #expect(tests.count == 1)
        #expect(tests.first?.status == .errored)
    }

    @Test("bats, LuaUnit and Test::More TAP with their comment lines")
    func plainTAP() {
        let bats = TAPParser.parse("""
        1..2
        ok 1 adds
        not ok 2 adds wrongly
        # (in test file c.bats, line 4)
        #   `[ "$result" -eq 5 ]' failed
        """).tests
        #expect(bats.map(\.name) == ["adds", "adds wrongly"])
        #expect(bats[1].message == "(in test file c.bats, line 4)\n`[ \"$result\" -eq 5 ]' failed")

        let lua = TAPParser.parse("""
        1..2
        # Started on Wed Nov 25 21:20:54 2026
        # Starting class: TestCalc
        ok     1\tTestCalc.test_adds
        not ok 2\tTestCalc.test_adds_wrongly
        #   luaunit_test.lua:4: two and two make four
        #   expected: 5, actual: 4
        # Ran 2 tests in 0.000 seconds, 1 success, 1 failure
        """).tests
        #expect(lua.map(\.name) == ["TestCalc.test_adds", "TestCalc.test_adds_wrongly"])
        #expect(lua[1].message == "luaunit_test.lua:4: two and two make four\nexpected: 5, actual: 4")

        let perl = TAPParser.parse("""
        ##doer-begin t/calc.t
        1..3
        ok 1 - adds
        not ok 2 - adds wrongly
        #   Failed test 'adds wrongly'
        #   at t/calc.t line 7.
        #          got: '4'
        #     expected: '5'
        ok 3 - skipped one # SKIP no network
        # Looks like you failed 1 test of 3.

        ##doer-end t/calc.t 1
        """)
        #expect(perl.tests.map(\.status) == [.passed, .failed, .skipped])
        #expect(perl.tests.allSatisfy { $0.suite == "t/calc.t" })
        #expect(perl.tests[1].message?.hasSuffix("expected: '5'") == true)
        #expect(perl.crashes.isEmpty)
    }

    @Test("a harness program killed by a signal is a crash naming the test it was running")
    func frameCrash() {
        let parsed = TAPParser.parse("""
        ##doer-begin test_crash.c
        TAP version 13
        1..2
        # running first
        ok 1 - first
        # running second

        ##doer-end test_crash.c 139
        ##doer-begin test_other.c
        1..1
        ok 1 - other

        ##doer-end test_other.c 0
        """)
        #expect(parsed.tests.map(\.name) == ["first", "other"])
        #expect(parsed.crashes == ["test_crash.c was killed by signal 11 (SIGSEGV) (in or after test second)"])
    }

    @Test("JUnit XML from pytest: failures, errors, skips and the message")
    func junit() {
        let xml = """
        <?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="4">
        <testcase classname="test_calc" name="test_adds" time="0.001" />
        <testcase classname="test_calc" name="test_adds_wrongly" time="0.002"><failure message="AssertionError: two and two make four&#10;assert 4 == 5">def test_adds_wrongly():
        &gt;       assert add(2, 2) == 5, "two and two make four"
        E       AssertionError: two and two make four</failure></testcase>
        <testcase classname="test_calc" name="test_boom" time="0.001"><error message="failed on setup with &quot;RuntimeError&quot;">RuntimeError</error></testcase>
        <testcase classname="test_calc" name="test_later" time="0.000"><skipped type="pytest.skip" message="later" /></testcase>
        </testsuite></testsuites>
        """
        let tests = JUnitXMLParser.parse("pytest chatter\n" + xml).tests
        #expect(tests.map(\.name) == ["test_adds", "test_adds_wrongly", "test_boom", "test_later"])
        #expect(tests.map(\.status) == [.passed, .failed, .errored, .skipped])
        #expect(tests[1].message == "AssertionError: two and two make four\nassert 4 == 5")
        #expect(tests[0].suite == "test_calc")
        #expect(tests[0].durationMs == 1)
    }

    @Test("go test -json: a failure's output, a panic as an error, subtests as the tests")
    func goJSON() {
        let output = """
        {"Action":"run","Package":"x","Test":"TestFine"}
        {"Action":"pass","Package":"x","Test":"TestFine","Elapsed":0}
        {"Action":"run","Package":"x","Test":"TestWrong"}
        {"Action":"output","Package":"x","Test":"TestWrong","Output":"=== RUN   TestWrong\\n"}
        {"Action":"output","Package":"x","Test":"TestWrong","Output":"    p_test.go:4: two and two make four, got 4\\n"}
        {"Action":"output","Package":"x","Test":"TestWrong","Output":"--- FAIL: TestWrong (0.00s)\\n"}
        {"Action":"fail","Package":"x","Test":"TestWrong","Elapsed":0}
        {"Action":"run","Package":"x","Test":"TestTable"}
        {"Action":"run","Package":"x","Test":"TestTable/one"}
        {"Action":"pass","Package":"x","Test":"TestTable/one"}
        {"Action":"pass","Package":"x","Test":"TestTable"}
        {"Action":"run","Package":"x","Test":"TestPanics"}
        {"Action":"output","Package":"x","Test":"TestPanics","Output":"panic: assignment to entry in nil map [recovered]\\n"}
        {"Action":"fail","Package":"x","Test":"TestPanics"}
        {"Action":"fail","Package":"x"}
        """
        let parsed = GoTestJSONParser.parse(output)
        #expect(parsed.tests.map(\.name) == ["TestFine", "TestWrong", "TestTable/one", "TestPanics"])
        #expect(parsed.tests.map(\.status) == [.passed, .failed, .passed, .errored])
        #expect(parsed.tests[1].message == "p_test.go:4: two and two make four, got 4")
        #expect(parsed.crashes.isEmpty)
        let initCrash = GoTestJSONParser.parse("""
        {"Action":"output","Package":"y","Output":"panic: in init\\n"}
        {"Action":"fail","Package":"y"}
        """)
        #expect(initCrash.crashes == ["y: panic: in init"])
    }

    @Test("libtest text output with the panic message of a failure")
    func rust() {
        let parsed = RustLibtestParser.parse("""
        ##doer-begin calc-0123456789abcdef

        running 2 tests
        test tests::adds ... ok
        test tests::adds_wrongly ... FAILED

        failures:

        ---- tests::adds_wrongly stdout ----
        thread 'tests::adds_wrongly' panicked at 'assertion failed: `(left == right)`
          left: `4`,
         right: `5`: two and two make four', src/lib.rs:17:9
        note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


        failures:
            tests::adds_wrongly

        test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s


        ##doer-end calc-0123456789abcdef 101
        """)
        #expect(parsed.tests.map(\.name) == ["tests::adds", "tests::adds_wrongly"])
        #expect(parsed.tests.allSatisfy { $0.suite == "calc" })
        #expect(parsed.tests[1].message?.hasSuffix("two and two make four', src/lib.rs:17:9") == true)
        #expect(parsed.crashes.isEmpty)
    }

    @Test("minitest's verbose output with failures and errors")
    func minitest() {
        let tests = MinitestParser.parse("""
        Run options: --verbose --seed 55224

        # Running:

        CalcTest#test_err = 0.00 s = E
        CalcTest#test_adds = 0.00 s = .
        CalcTest#test_adds_wrongly = 0.00 s = F

        Finished in 0.035099s, 85.4719 runs/s, 56.9812 assertions/s.

          1) Error:
        CalcTest#test_err:
        RuntimeError: boom
            /tmp/lt/test/c_test.rb:5:in `test_err'

          2) Failure:
        CalcTest#test_adds_wrongly [/tmp/lt/test/c_test.rb:4]:
        two and two make four.
        Expected: 5
          Actual: 4

        3 runs, 2 assertions, 1 failures, 1 errors, 0 skips
        """).tests
        #expect(tests.map(\.name) == ["test_err", "test_adds", "test_adds_wrongly"])
        #expect(tests.map(\.status) == [.errored, .passed, .failed])
        #expect(tests[0].message?.hasPrefix("RuntimeError: boom") == true)
        #expect(tests[2].message == "two and two make four.\nExpected: 5\n  Actual: 4")
    }

    @Test("XCTest's console output")
    func xctest() {
        let parsed = XCTestParser.parse("""
        ##doer-begin CalcPackageTests.xctest
        Test Suite 'All tests' started at 2026-11-25 21:40:00.000
        Test Case 'CalcTests.testAdds' started at 2026-11-25 21:40:00.001
        Test Case 'CalcTests.testAdds' passed (0.001 seconds)
        Test Case 'CalcTests.testAddsWrongly' started at 2026-11-25 21:40:00.002
        /workspace/Tests/CalcTests/CalcTests.swift:6: error: CalcTests.testAddsWrongly : XCTAssertEqual failed: ("4") is not equal to ("5") - two and two make four
        Test Case 'CalcTests.testAddsWrongly' failed (0.002 seconds)
        Test Case 'CalcTests.testCrashes' started at 2026-11-25 21:40:00.003

        ##doer-end CalcPackageTests.xctest 132
        """)
        #expect(parsed.tests.map(\.name) == ["testAdds", "testAddsWrongly"])
        #expect(parsed.tests[1].message == #"/workspace/Tests/CalcTests/CalcTests.swift:6: XCTAssertEqual failed: ("4") is not equal to ("5") - two and two make four"#)
        #expect(parsed.crashes.first?.contains("CalcTests.testCrashes") == true)
        #expect(parsed.crashes.first?.contains("SIGILL") == true)
    }
}
