import DoerCore
import Testing

@Suite("plan checklist")
struct PlanChecklistTests {
    let passing = TestReport(passed: 2, failed: 0, command: "pytest", failureSummary: nil)
    let failing = TestReport(passed: 0, failed: 1, command: "pytest", failureSummary: "assert 1 == 2")

    @Test("steps naming files tick off when those files are written, test steps when a test run passes")
    func modelPlan() {
        var list = PlanChecklist(Plan(steps: ["Write slug.py", "Write test_slug.py", "Run the tests", "Apply the change"],
                                      files: [], language: "python", testStrategy: "pytest"))
        #expect(list.apply(.action(candidate: 0, .writeFile(path: "slug.py", content: ""))) == [0])
        #expect(list.apply(.action(candidate: 0, .runCommand("ls"))) == [])
        #expect(list.apply(.testReport(candidate: 0, iteration: 1, report: failing)) == [])
        #expect(list.apply(.action(candidate: 0, .editFile(path: "test_slug.py", search: "a", replace: "b"))) == [1])
        #expect(list.apply(.testReport(candidate: 0, iteration: 2, report: passing)) == [2])
        #expect(list.lines == ["[x] Write slug.py", "[x] Write test_slug.py", "[x] Run the tests", "[ ] Apply the change"])
        #expect(list.apply(.candidateStatus(candidate: 0, status: .passed(iteration: 2))) == [])
        #expect(list.apply(.changesApplied(files: [])) == [3])
    }

    @Test("a derived plan: any write does the first step; passing does all but applying")
    func derivedPlan() {
        var list = PlanChecklist(Plan(steps: ["Write the code for the task", "Write tests for it", "Run the tests: pytest", "Repair what fails until the tests pass",
                                              "Show the diff and apply it with approval"], files: [], language: "python", testStrategy: "pytest"))
        #expect(list.apply(.action(candidate: 0, .writeFile(path: "x.py", content: ""))) == [0])
        #expect(list.apply(.action(candidate: 0, .writeFile(path: "test_x.py", content: ""))) == [1])
        #expect(list.apply(.candidateStatus(candidate: 0, status: .passed(iteration: 1))) == [2, 3])
        #expect(list.done == [true, true, true, true, false])
        // A new plan event starts the list over.
        list.apply(.plan(Plan(steps: ["a"], files: [], language: "python", testStrategy: "")))
        #expect(list.lines == ["[ ] a"])
    }
}
