public import Foundation
import Logging
import OTel
public import ServiceLifecycle
public import Tracing

/// Where traces go: an OTLP/HTTP endpoint (`[telemetry] otlp_endpoint`).
public struct TraceExportSettings: Sendable, Hashable {
    public enum Encoding: String, Sendable, Hashable, CaseIterable {
        case protobuf = "http/protobuf"
        case json = "http/json"
    }

    /// The collector's URL; one without a path gets OTLP's `/v1/traces`.
    public var endpoint: URL
    public var encoding: Encoding
    public var serviceName: String
    /// How long finished spans wait to be sent together.
    public var batchDelay: Duration

    public init(endpoint: URL, encoding: Encoding = .protobuf, serviceName: String = "doer", batchDelay: Duration = .seconds(1)) {
        self.endpoint = endpoint
        self.encoding = encoding
        self.serviceName = serviceName
        self.batchDelay = batchDelay
    }

    /// The URL spans are posted to.
    public var tracesURL: String {
        let text = endpoint.absoluteString
        guard endpoint.path.isEmpty || endpoint.path == "/" else { return text }
        return text.hasSuffix("/") ? text + "v1/traces" : text + "/v1/traces"
    }
}

/// Builds swift-otel's tracer for the settings: spans are batched and posted by the
/// returned service, which must run (the server adds it to its services) and flushes what
/// is left when it is stopped.
public enum TraceExporter {
    public static func make(_ settings: TraceExportSettings) throws -> (tracer: any Tracer, service: any Service) {
        var configuration = OTel.Configuration.default
        configuration.serviceName = settings.serviceName
        configuration.metrics.enabled = false
        configuration.logs.enabled = false
        configuration.traces.enabled = true
        configuration.traces.exporter = .otlp
        configuration.traces.sampler = .alwaysOn
        configuration.traces.otlpExporter.endpoint = settings.tracesURL
        configuration.traces.otlpExporter.protocol = settings.encoding == .json ? .httpJSON : .httpProtobuf
        configuration.traces.batchSpanProcessor.scheduleDelay = settings.batchDelay
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        return (backend.factory, backend.service)
    }
}
