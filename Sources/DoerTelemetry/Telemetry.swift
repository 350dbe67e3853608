public import DoerCore
public import DoerModels
public import DoerSandbox
public import ServiceLifecycle
public import Tracing

/// What `doer serve` measures and traces, handed to the runtime once: Prometheus metrics
/// (`DoerMetrics`) and, when an OTLP endpoint is configured, a tracer. Disabled, it wraps
/// nothing and records nothing, so the terminal commands pay for none of it.
///
/// ```swift
/// let telemetry = Telemetry(metrics: DoerMetrics(), tracer: nil)
/// let model = telemetry.instrument(provider)          // a span and TTFT per model call
/// var session = telemetry.observeSession("s1", backend: .bubblewrap, provider: model.name)
/// session.record(event)                                // runs, outcomes, approvals, test spans
/// ```
public struct Telemetry: Sendable {
    public let metrics: DoerMetrics?
    public let tracer: (any Tracer)?

    public init(metrics: DoerMetrics?, tracer: (any Tracer)?) {
        self.metrics = metrics
        self.tracer = tracer
    }

    public static let disabled = Telemetry(metrics: nil, tracer: nil)

    public var isEnabled: Bool { metrics != nil || tracer != nil }

    /// The provider with a span per model call, its tokens and its time to first token.
    public func instrument(_ model: any ModelProvider) -> any ModelProvider {
        guard isEnabled, !(model is InstrumentedModelProvider) else { return model }
        return InstrumentedModelProvider(base: model, telemetry: self)
    }

    /// The sandbox with a span per run and the time each run spent outside its command.
    public func instrument(_ sandbox: any Sandbox) -> any Sandbox {
        guard isEnabled, !(sandbox is InstrumentedSandbox) else { return sandbox }
        return InstrumentedSandbox(base: sandbox, telemetry: self)
    }

    /// Starts following one session's events; `finish` ends it.
    public func observeSession(_ id: String, backend: SandboxBackendKind, provider: String) -> SessionObserver {
        SessionObserver(telemetry: self, session: id, backend: backend.rawValue, provider: provider)
    }
}

extension Telemetry {
    /// What `doer serve` runs with: metrics always, traces when `traces` names a collector.
    /// The returned service sends the spans and must run beside the server.
    public static func serving(traces: TraceExportSettings?) throws -> (telemetry: Telemetry, traceService: (any Service)?) {
        guard let traces else { return (Telemetry(metrics: DoerMetrics(), tracer: nil), nil) }
        let exporter = try TraceExporter.make(traces)
        return (Telemetry(metrics: DoerMetrics(), tracer: exporter.tracer), exporter.service)
    }
}
