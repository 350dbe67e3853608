import DoerCore
import DoerModels
import Instrumentation
import Tracing

/// A model provider that records each call: a `model.call` span (a child of the session's
/// span when there is one), its tokens, its duration and its time to first token — the
/// wait until the first text or tool-call fragment arrived. Deltas pass through unchanged,
/// and cancelling the consumer still cancels the request on the wire.
struct InstrumentedModelProvider: ModelProvider {
    let base: any ModelProvider
    let telemetry: Telemetry

    var name: String { base.name }
    var contextWindow: Int? { base.contextWindow }

    func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelDelta, any Error> {
        let provider = base.name, metrics = telemetry.metrics
        let context = ServiceContext.current ?? .topLevel
        let span = telemetry.tracer?.startSpan("model.call", context: context, ofKind: .client)
        span?.attributes[SpanAttributeName.provider] = provider
        if let session = context.doerSessionID { span?.attributes[SpanAttributeName.session] = session }
        let upstream = base.stream(request)
        return AsyncThrowingStream { continuation in
            let forwarding = Task {
                let started = ContinuousClock.now
                var firstTokenSeen = false
                var usage = TokenUsage()
                var failure: (any Error)?
                do {
                    for try await delta in upstream {
                        switch delta {
                        case .text, .toolCall:
                            if !firstTokenSeen {
                                firstTokenSeen = true
                                let wait = started.duration(to: .now)
                                metrics?.timeToFirstToken(provider: provider, duration: wait)
                                span?.attributes["doer.model.time_to_first_token_ms"] = wait.milliseconds
                            }
                        case .usage(let more):
                            usage = usage + more
                        case .finished:
                            break
                        }
                        continuation.yield(delta)
                    }
                } catch {
                    failure = error
                }
                metrics?.tokens(provider: provider, prompt: usage.promptTokens, completion: usage.completionTokens)
                metrics?.modelCall(provider: provider, duration: started.duration(to: .now),
                                   failed: failure != nil && !(failure is CancellationError))
                span?.attributes["gen_ai.usage.input_tokens"] = usage.promptTokens
                span?.attributes["gen_ai.usage.output_tokens"] = usage.completionTokens
                if let failure {
                    span?.recordError(failure)
                    span?.setStatus(SpanStatus(code: .error))
                }
                span?.end()
                if let failure { continuation.finish(throwing: failure) } else { continuation.finish() }
            }
            continuation.onTermination = { _ in forwarding.cancel() }
        }
    }
}
