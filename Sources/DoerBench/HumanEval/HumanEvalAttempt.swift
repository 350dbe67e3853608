import Foundation

/// The ways of answering a problem the benchmark compares, all on the same model.
public enum HumanEvalMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// One generation, nothing run: the baseline.
    case single
    /// The agent's loop with one candidate, tested on the prompt's examples only.
    case loop
    /// The loop with several candidates racing; the first to pass the examples wins.
    case speculative
}

/// One mode's answer to one problem and what it cost; a line of the results file.
public struct HumanEvalAttempt: Sendable, Hashable, Codable {
    public var taskID: String
    public var mode: HumanEvalMode
    /// Whether the hidden test passed (run once, on the final answer).
    public var passed: Bool
    public var timedOut: Bool
    /// Whether the answer passed the visible examples in the loop (nil in single mode or
    /// when the prompt has no examples and the model wrote no test).
    public var visiblePassed: Bool?
    public var candidates: Int
    public var modelCalls: Int
    public var tokens: Int
    public var iterations: Int
    /// Each iteration: one model turn and its sandboxed test run.
    public var iterationMs: [Double]
    public var wallMs: Double
    public var modelMs: Double
    public var sandboxMs: Double
    public var timeToFirstPassMs: Double?
    public var answer: String
    public var scoreOutput: String
    /// Why the attempt could not finish (the model failed), if it could not.
    public var error: String?
}
