import CoreMetrics
public import Prometheus

/// Doer's Prometheus metrics: one registry per server, so two servers in one process (as
/// in the tests) never mix their counts, and nothing is bootstrapped globally.
///
/// Names follow Prometheus' conventions: `_total` for counters, `_seconds` for durations.
/// Labels are chosen from small fixed sets (backend, language, provider, outcome), never
/// from what a user typed, so the number of series stays bounded.
public final class DoerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Sessions and test runs last seconds to minutes; model answers up to a minute.
        let long: [Duration] = [.milliseconds(100), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
                                .seconds(30), .seconds(60), .seconds(120), .seconds(300), .seconds(600)]
        let short: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                 .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5)]
        factory.durationHistogramBuckets = [
            Name.sessionDuration: long, Name.runDuration: long, Name.modelCallDuration: long,
            Name.timeToFirstToken: short + [.seconds(10), .seconds(30)], Name.sandboxSetup: short,
        ]
        factory.valueHistogramBuckets = [Name.iterations: [1, 2, 3, 4, 5, 6, 8, 10, 15, 20]]
        self.factory = factory
    }

    enum Name {
        static let sessionsStarted = "doer_sessions_started_total"
        static let sessions = "doer_sessions_total"
        static let sessionDuration = "doer_session_duration_seconds"
        static let iterations = "doer_session_iterations"
        static let runs = "doer_runs_total"
        static let runDuration = "doer_run_duration_seconds"
        static let testRuns = "doer_test_runs_total"
        static let sandboxSetup = "doer_sandbox_setup_seconds"
        static let modelCalls = "doer_model_calls_total"
        static let modelErrors = "doer_model_errors_total"
        static let modelTokens = "doer_model_tokens_total"
        static let modelCallDuration = "doer_model_call_duration_seconds"
        static let timeToFirstToken = "doer_model_time_to_first_token_seconds"
        static let approvals = "doer_approvals_total"
        static let sseClients = "doer_sse_clients"
        static let queueDepth = "doer_queue_depth"
        static let sessionsRunning = "doer_sessions_running"
    }

    // MARK: Sessions

    func sessionStarted() {
        Counter(label: Name.sessionsStarted, factory: factory).increment()
    }

    func sessionFinished(outcome: String, iterations: Int?, duration: Duration) {
        Counter(label: Name.sessions, dimensions: [("outcome", outcome)], factory: factory).increment()
        Timer(label: Name.sessionDuration, dimensions: [("outcome", outcome)], factory: factory).recordNanoseconds(duration.nanoseconds)
        if let iterations {
            Recorder(label: Name.iterations, factory: factory).record(iterations)
        }
    }

    /// A command the agent ran in the sandbox (a build, a script, a test run).
    func run(backend: String, language: String, exitCode: Int32, duration: Duration) {
        let labels = [("backend", backend), ("language", language)]
        Counter(label: Name.runs, dimensions: labels + [("status", exitCode == 0 ? "ok" : "failed")], factory: factory).increment()
        Timer(label: Name.runDuration, dimensions: labels, factory: factory).recordNanoseconds(duration.nanoseconds)
    }

    func testRun(language: String, passed: Bool) {
        Counter(label: Name.testRuns, dimensions: [("language", language), ("result", passed ? "passed" : "failed")],
                factory: factory).increment()
    }

    func approval(approved: Bool) {
        Counter(label: Name.approvals, dimensions: [("answer", approved ? "approved" : "denied")], factory: factory).increment()
    }

    // MARK: Sandbox and model

    /// Time a sandboxed run spent outside its command: preparing the sandbox and its
    /// workspace view before the command was spawned, and collecting its changes after.
    func sandboxSetup(backend: String, duration: Duration) {
        Timer(label: Name.sandboxSetup, dimensions: [("backend", backend)], factory: factory).recordNanoseconds(duration.nanoseconds)
    }

    func modelCall(provider: String, duration: Duration, failed: Bool) {
        Counter(label: Name.modelCalls, dimensions: [("provider", provider)], factory: factory).increment()
        Timer(label: Name.modelCallDuration, dimensions: [("provider", provider)], factory: factory).recordNanoseconds(duration.nanoseconds)
        if failed { Counter(label: Name.modelErrors, dimensions: [("provider", provider)], factory: factory).increment() }
    }

    func timeToFirstToken(provider: String, duration: Duration) {
        Timer(label: Name.timeToFirstToken, dimensions: [("provider", provider)], factory: factory).recordNanoseconds(duration.nanoseconds)
    }

    func tokens(provider: String, prompt: Int, completion: Int) {
        if prompt > 0 {
            Counter(label: Name.modelTokens, dimensions: [("provider", provider), ("kind", "prompt")], factory: factory)
                .increment(by: prompt)
        }
        if completion > 0 {
            Counter(label: Name.modelTokens, dimensions: [("provider", provider), ("kind", "completion")], factory: factory)
                .increment(by: completion)
        }
    }

    // MARK: Server state, read when scraped

    /// Sets the gauges that describe the server at this moment; called just before a scrape.
    public func serverState(sseClients: Int, sessionsRunning: Int, queueDepth: Int) {
        Gauge(label: Name.sseClients, factory: factory).record(sseClients)
        Gauge(label: Name.sessionsRunning, factory: factory).record(sessionsRunning)
        Gauge(label: Name.queueDepth, factory: factory).record(queueDepth)
    }

    /// The text exposition format (version 0.0.4) of every metric.
    public func exposition() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds.multipliedReportingOverflow(by: 1_000_000_000).overflow ? .max
            : seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
