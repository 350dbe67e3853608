/// What shows (or fails to show) that a change did what was asked, kept as a record: the
/// request's tests run on the workspace as it was (red) and with the change (green).
public struct ChangeEvidence: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A test failed on the workspace as it was and passes with the change.
        case redGreen = "red-green"
        /// A refactor the request asked for: the existing suite passed before and after.
        case existingSuite = "existing-suite"
        /// Nothing showed the request was done.
        case none
    }

    /// Who wrote a test that went from red to green: the user (the request's or the
    /// documentation's examples, which Doer turns into tests), the project (the workspace's
    /// own tests), or the model. Only the first two say what was asked without the model's
    /// reading of it; a second reading, apart from the code, backs the model's.
    public enum Source: String, Sendable, Hashable, Codable {
        case requestExamples = "request-examples"
        case workspaceTests = "workspace-tests"
        case modelTests = "model-tests"
        /// A test of the request the model wrote apart from any candidate's code, seeing only
        /// the request and the code as it was; it backs a pass the model's own tests show.
        case independentTest = "independent-test"
    }

    public var kind: Kind
    /// Whose tests went red to green (empty when the runner did not name them). Optional
    /// because records written before it was kept have none.
    public var sources: [Source]?
    /// Whether the run may call itself passed.
    public var verified: Bool
    /// The tests that failed on the workspace as it was (test ids when the runner names
    /// them, such as `test_stats.py::test_spread`).
    public var failedBefore: [String]
    /// The tests that pass with the change, of those that failed before.
    public var passedAfter: [String]
    /// Counts of the run on the workspace as it was, when it ran.
    public var before: TestReport?
    /// The test command both runs used.
    public var command: String
    /// The finding in words, as the summary says it.
    public var summary: String

    public init(kind: Kind, verified: Bool, failedBefore: [String] = [], passedAfter: [String] = [], before: TestReport? = nil,
                command: String = "", summary: String, sources: [Source]? = nil) {
        self.kind = kind
        self.sources = sources
        self.verified = verified
        self.failedBefore = failedBefore
        self.passedAfter = passedAfter
        self.before = before
        self.command = command
        self.summary = summary
    }
}
