import Foundation

/// Everything an agent run reports, in order. Frontends read it wrapped in a
/// `SessionEvent`, which adds what happens to a recorded session besides its runs.
public enum AgentEvent: Sendable, Hashable, Codable {
    case started(task: String, workspace: String, candidates: Int)
    case plan(Plan)
    /// Text the model is writing, for candidate `candidate`.
    case messageDelta(candidate: Int, text: String)
    case action(candidate: Int, Action)
    case executionStarted(candidate: Int, command: String)
    /// Output of the running command as it is produced (batched; `executionFinished` still
    /// carries the trimmed whole).
    case executionOutput(candidate: Int, channel: OutputChannel, text: String)
    case executionFinished(candidate: Int, command: String, exitCode: Int32, durationMs: Double, output: String)
    case testReport(candidate: Int, iteration: Int, report: TestReport)
    case candidateStatus(candidate: Int, status: CandidateStatus)
    /// Whether the winner's change was shown to do what was asked (see `ChangeEvidence`),
    /// checked before anything is applied.
    case evidence(ChangeEvidence)
    case approvalRequested(ApprovalRequest)
    case approvalAnswered(id: String, approved: Bool, by: String)
    /// What the changes replace, recorded before they are applied (for `doer undo`).
    case undoPoint(WorkspaceBackup)
    case changesApplied(files: [FileChange])
    case done(RunSummary)
}

/// What the agent means to do, shown before it does it.
public struct Plan: Sendable, Hashable, Codable {
    public var steps: [String]
    public var files: [String]
    public var language: String
    public var testStrategy: String

    public init(steps: [String], files: [String], language: String, testStrategy: String) {
        self.steps = steps
        self.files = files
        self.language = language
        self.testStrategy = testStrategy
    }
}

/// The outcome of one test run.
public struct TestReport: Sendable, Hashable, Codable {
    public var passed: Int
    public var failed: Int
    public var command: String
    /// The failure trimmed to what matters, as it goes back to the model.
    public var failureSummary: String?
    public var succeeded: Bool { failed == 0 && passed > 0 && failureSummary == nil }

    public init(passed: Int, failed: Int, command: String, failureSummary: String?) {
        self.passed = passed
        self.failed = failed
        self.command = command
        self.failureSummary = failureSummary
    }
}

public enum CandidateStatus: Sendable, Hashable, Codable {
    case generating(iteration: Int)
    case testing(iteration: Int)
    case passed(iteration: Int)
    case failed(reason: String)
    case cancelled
}

public struct ApprovalRequest: Sendable, Hashable, Codable {
    public var id: String
    public var summary: String
    public var diff: String
    public var files: [FileChange]

    public init(id: String, summary: String, diff: String, files: [FileChange]) {
        self.id = id
        self.summary = summary
        self.diff = diff
        self.files = files
    }
}

/// How a run ended.
public struct RunSummary: Sendable, Hashable, Codable {
    public enum Outcome: String, Sendable, Hashable, Codable {
        /// The tests pass, and a test that encodes the request failed before the change.
        case passed
        /// The tests pass, but nothing shows the request was done: they passed without the
        /// change too, or the change only adds files the request did not name.
        case unverified
        case failedTests = "failed-tests"
        case iterationLimit = "iteration-limit"
        case repeatedFailure = "repeated-failure"
        case budgetExhausted = "budget-exhausted"
        case error
        case cancelled
    }

    public var outcome: Outcome
    public var winner: Int?
    public var iterations: Int
    public var changedFiles: [FileChange]
    public var applied: Bool
    public var diff: String
    public var usage: TokenUsage
    public var durationMs: Double
    public var message: String

    public init(outcome: Outcome, winner: Int?, iterations: Int, changedFiles: [FileChange], applied: Bool,
                diff: String, usage: TokenUsage, durationMs: Double, message: String) {
        self.outcome = outcome
        self.winner = winner
        self.iterations = iterations
        self.changedFiles = changedFiles
        self.applied = applied
        self.diff = diff
        self.usage = usage
        self.durationMs = durationMs
        self.message = message
    }
}
