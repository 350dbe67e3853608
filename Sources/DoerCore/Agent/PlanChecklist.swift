import Foundation

/// The plan as a checklist that ticks itself off as a run's events arrive, so every
/// frontend shows the same progress without knowing the agent's internals.
///
/// A step is done when every file it names has been written, when it is about tests and a
/// test run passed, or when the run passed (all but applying) or was applied (all).
public struct PlanChecklist: Sendable, Hashable {
    public private(set) var plan: Plan
    public private(set) var done: [Bool]
    private var written: Set<String> = []

    public init(_ plan: Plan) {
        self.plan = plan
        self.done = Array(repeating: false, count: plan.steps.count)
    }

    /// Updates from one event; returns the indices of steps that became done.
    @discardableResult
    public mutating func apply(_ event: AgentEvent) -> [Int] {
        let before = done
        switch event {
        case .plan(let newPlan):
            self = PlanChecklist(newPlan)
            return []
        case .action(_, .writeFile(let path, _)), .action(_, .editFile(let path, _, _)):
            written.insert(path)
            let anyNamed = plan.steps.contains { !Self.files(in: $0).isEmpty }
            for (index, step) in plan.steps.enumerated() where !done[index] {
                let named = Self.files(in: step)
                if !named.isEmpty && named.allSatisfy(written.contains) { done[index] = true }
            }
            // A derived plan names no file: writing anything does its first step, writing a
            // test file its step about writing tests.
            if !anyNamed, let first = plan.steps.indices.first, Self.isWriting(plan.steps[first]) { done[first] = true }
            if !anyNamed, Self.isTestFile(path) {
                for (index, step) in plan.steps.enumerated() where Self.isWriting(step) && step.lowercased().contains("test") { done[index] = true }
            }
        case .testReport(_, _, let report) where report.succeeded:
            for (index, step) in plan.steps.enumerated() where Self.isAboutTests(step) { done[index] = true }
        case .candidateStatus(_, .passed):
            for (index, step) in plan.steps.enumerated() where !Self.isApplying(step) { done[index] = true }
        case .changesApplied:
            done = done.map { _ in true }
        default:
            break
        }
        return done.indices.filter { done[$0] && !before[$0] }
    }

    /// `[x] step` lines.
    public var lines: [String] {
        plan.steps.enumerated().map { (done[$0.offset] ? "[x] " : "[ ] ") + $0.element }
    }

    static func files(in step: String) -> [String] {
        step.split(whereSeparator: { " \n\t`'\"(),:;".contains($0) }).map(String.init)
            .filter { $0.range(of: "^[A-Za-z0-9_./-]+\\.[a-z]{1,5}$", options: .regularExpression) != nil }
    }

    private static func isTestFile(_ path: String) -> Bool {
        let name = (path as NSString).lastPathComponent
        return name.hasPrefix("test_") || name.contains("_test.") || name.contains(".test.") || name.contains(".spec.")
    }

    private static func isWriting(_ step: String) -> Bool {
        let lower = step.lowercased()
        return ["write", "create", "add", "implement", "change", "edit", "update"].contains { lower.contains($0) }
    }

    private static func isAboutTests(_ step: String) -> Bool {
        let lower = step.lowercased()
        return lower.contains("test") && !isApplying(step) && !lower.hasPrefix("write")
    }

    private static func isApplying(_ step: String) -> Bool {
        let lower = step.lowercased()
        return lower.contains("apply") || lower.contains("approval")
    }
}
