import DoerCore
import DoerSandbox
import Instrumentation
import Tracing

/// A sandbox that records each run: a `sandbox.run` span (a child of the session's span
/// when there is one) and the time the run spent outside its command — preparing the
/// sandbox before the spawn and collecting the changes after — per backend.
struct InstrumentedSandbox: Sandbox {
    let base: any Sandbox
    let telemetry: Telemetry

    var kind: SandboxBackendKind { base.kind }

    func run(_ request: ExecutionRequest, observingOutput observer: OutputObserver?) async throws(DoerError) -> ExecutionResult {
        let context = ServiceContext.current ?? .topLevel
        let span = telemetry.tracer?.startSpan("sandbox.run", context: context, ofKind: .internal)
        span?.attributes[SpanAttributeName.backend] = base.kind.rawValue
        // The program only: arguments may hold what a user typed.
        span?.attributes["process.executable.name"] = request.command.first.map { String($0.split(separator: "/").last ?? "") }
        if let session = context.doerSessionID { span?.attributes[SpanAttributeName.session] = session }
        let started = ContinuousClock.now
        do {
            let result = try await base.run(request, observingOutput: observer)
            let whole = started.duration(to: .now)
            let outside = whole - .milliseconds(result.durationMs)
            telemetry.metrics?.sandboxSetup(backend: base.kind.rawValue, duration: max(outside, .zero))
            span?.attributes[SpanAttributeName.exitCode] = Int(result.termination.shellExitCode)
            span?.attributes["doer.sandbox.timed_out"] = result.timedOut
            span?.end()
            return result
        } catch {
            span?.recordError(error)
            span?.setStatus(SpanStatus(code: .error))
            span?.end()
            throw error
        }
    }
}
