import DoerCore
import Foundation

/// The plan shown before the work starts. Small tasks (the common case with a small local
/// model) get a short plan derived from the request and the workspace, without spending a
/// model turn on it.
enum Planner {
    static func plan(task: String, files: [String], strategy: TestStrategy) -> Plan {
        let mentioned = task.split(whereSeparator: { " \n\t`'\"(),".contains($0) })
            .map(String.init).filter { $0.contains(".") && !$0.hasSuffix(".") && $0.range(of: "^[A-Za-z0-9_./-]+\\.[a-z]{1,5}$", options: .regularExpression) != nil }
        let language = strategy.kind == .nodeTest ? "javascript" : "python"
        var steps = ["Write the code for the task" + (mentioned.isEmpty ? "" : " in " + mentioned.joined(separator: ", "))]
        if strategy.hasTests(files) {
            steps.append("Run the tests: \(strategy.description)")
        } else {
            steps.append("Write tests for it")
            steps.append("Run the tests: \(strategy.description)")
        }
        steps.append("Repair what fails until the tests pass")
        steps.append("Show the diff and apply it with approval")
        return Plan(steps: steps, files: mentioned, language: language, testStrategy: strategy.description)
    }
}
