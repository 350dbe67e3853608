/// How far an interrupted or unfinished session got, so that a resumed run starts from the
/// candidates' files and their last failure instead of from nothing. A recorded session's
/// comes from `SessionHistory.resumePoint`; `init(events:)` reads an agent's own stream.
///
/// The events are replayed run by run: each `started` begins a run whose candidate `i`
/// continued from the `i`-th best state of the run before (see `ordered`), which is also
/// how `Agent` hands states to a resumed run's candidates.
public struct ResumePoint: Sendable, Hashable {
    public struct CandidateState: Sendable, Hashable {
        /// The file writes and edits the candidate made, in order, to replay on a fresh
        /// copy of the workspace. (Commands it ran are not replayed: their effects on the
        /// copy were never recorded.)
        public var actions: [Action] = []
        /// The last failing test output, as it went back to the model.
        public var lastFailure: String?
        public var testRuns = 0
        public var passed = false

        public init() {}
    }

    public var plan: Plan?
    /// The candidates' states, the most promising first: passed ones, then ones with work.
    public var candidates: [CandidateState]
    /// Whether the session's changes already reached the workspace (and were not undone).
    public var applied: Bool

    public init(plan: Plan?, candidates: [CandidateState], applied: Bool) {
        self.plan = plan
        self.candidates = candidates
        self.applied = applied
    }

    /// The point an agent's events reach, run after run.
    public init(events: [AgentEvent]) {
        var plan: Plan?
        var current: [Int: CandidateState] = [:]
        var applied = false
        for event in events {
            switch event {
            case .started:
                let carried = Self.ordered(current)
                current = Dictionary(uniqueKeysWithValues: carried.enumerated().map { ($0.offset, $0.element) })
            case .plan(let written):
                plan = written
            case .action(let candidate, let action):
                if case .runCommand = action { continue }
                current[candidate, default: CandidateState()].actions.append(action)
            case .testReport(let candidate, _, let report):
                current[candidate, default: CandidateState()].testRuns += 1
                current[candidate, default: CandidateState()].passed = report.succeeded
                current[candidate, default: CandidateState()].lastFailure = report.failureSummary
            case .changesApplied:
                applied = true
            default:
                break
            }
        }
        self.plan = plan
        self.candidates = Self.ordered(current)
        self.applied = applied
    }

    /// Whether there is anything to continue from.
    public var hasWork: Bool { candidates.contains { !$0.actions.isEmpty } }

    public var passed: Bool { candidates.first?.passed ?? false }

    private static func ordered(_ states: [Int: CandidateState]) -> [CandidateState] {
        states.sorted { a, b in
            if a.value.passed != b.value.passed { return a.value.passed }
            if a.value.actions.isEmpty != b.value.actions.isEmpty { return !a.value.actions.isEmpty }
            return a.key < b.key
        }.map(\.value)
    }
}
