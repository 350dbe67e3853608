public import DoerCore
public import Instrumentation
import Tracing

/// Follows one session's events as they are recorded: the session's span (its context is
/// what the agent runs under, so model calls and sandboxed runs become its children), a
/// span per test run, and the metrics the events carry — runs per backend and language,
/// test results, approvals, the outcome and the iterations it took.
///
/// Events of one session arrive in order from one task, so this is a value, not a lock.
public struct SessionObserver: Sendable {
    let telemetry: Telemetry
    let session: String
    let backend: String
    let provider: String
    let started = ContinuousClock.now
    let span: (any Span)?
    /// The context the session's work runs under: its span and its id.
    public let context: ServiceContext
    private var language = "unknown"
    private var testSpans: [Int: any Span] = [:]
    private var finished = false

    init(telemetry: Telemetry, session: String, backend: String, provider: String) {
        self.telemetry = telemetry
        self.session = session
        self.backend = backend
        self.provider = provider
        var parent = ServiceContext.current ?? .topLevel
        parent.doerSessionID = session
        let span = telemetry.tracer?.startSpan("session", context: parent, ofKind: .internal)
        span?.attributes[SpanAttributeName.session] = session
        span?.attributes[SpanAttributeName.backend] = backend
        span?.attributes[SpanAttributeName.provider] = provider
        self.span = span
        var context = span?.context ?? parent
        context.doerSessionID = session
        self.context = context
        telemetry.metrics?.sessionStarted()
    }

    /// Runs `body` with the session's context as the task's, so the tasks it starts (the
    /// agent's) carry the session's span and id.
    public func withContext<T>(_ body: () throws -> T) rethrows -> T {
        try ServiceContext.withValue(context, operation: body)
    }

    public mutating func record(_ event: AgentEvent) {
        switch event {
        case .plan(let plan):
            // Language names come from the catalogue; anything else would grow the label set.
            let name = plan.language.lowercased()
            language = name.count <= 20 && name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "#" })
                ? name : "other"
            span?.attributes[SpanAttributeName.language] = language
        case .executionFinished(_, _, let exitCode, let durationMs, _):
            telemetry.metrics?.run(backend: backend, language: language, exitCode: exitCode, duration: .milliseconds(durationMs))
        case .candidateStatus(let candidate, .testing(let iteration)):
            testSpans[candidate]?.end()
            let test = telemetry.tracer?.startSpan("test.run", context: context, ofKind: .internal)
            test?.attributes[SpanAttributeName.session] = session
            test?.attributes[SpanAttributeName.candidate] = candidate
            test?.attributes[SpanAttributeName.iteration] = iteration
            test?.attributes[SpanAttributeName.language] = language
            testSpans[candidate] = test
        case .testReport(let candidate, _, let report):
            telemetry.metrics?.testRun(language: language, passed: report.succeeded)
            if let test = testSpans.removeValue(forKey: candidate) {
                test.attributes["doer.tests.passed"] = report.passed
                test.attributes["doer.tests.failed"] = report.failed
                if !report.succeeded { test.setStatus(SpanStatus(code: .error)) }
                test.end()
            }
        case .approvalAnswered(_, let approved, _):
            telemetry.metrics?.approval(approved: approved)
        case .done(let summary):
            finish(outcome: summary.outcome.rawValue, iterations: summary.iterations)
        default:
            break
        }
    }

    /// Ends the session's spans; `outcome` is the summary's, or why there was none.
    public mutating func finish(outcome: String, iterations: Int? = nil) {
        guard !finished else { return }
        finished = true
        for (_, test) in testSpans { test.end() }
        testSpans = [:]
        telemetry.metrics?.sessionFinished(outcome: outcome, iterations: iterations, duration: started.duration(to: .now))
        span?.attributes[SpanAttributeName.outcome] = outcome
        if let iterations { span?.attributes[SpanAttributeName.iteration] = iterations }
        if outcome != RunSummary.Outcome.passed.rawValue { span?.setStatus(SpanStatus(code: .error)) }
        span?.end()
    }
}
