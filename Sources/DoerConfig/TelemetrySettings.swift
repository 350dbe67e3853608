public import DoerCore
public import Foundation
import TOMLKit

/// `[telemetry]`: where `doer serve` sends its traces and who may read its metrics.
///
/// ```toml
/// [telemetry]
/// otlp_endpoint = "http://127.0.0.1:4318"   # OTLP/HTTP; "/v1/traces" is added to a bare URL
/// otlp_protocol = "http/protobuf"            # or "http/json"
/// metrics_token_file = "/etc/doer/metrics-token"
/// ```
public struct TelemetrySettings: Sendable, Equatable {
    /// The OTLP/HTTP collector; no traces are made without one.
    public var otlpEndpoint: URL?
    /// "http/protobuf" (the default) or "http/json".
    public var otlpProtocol = "http/protobuf"
    /// A file holding the bearer token `/metrics` asks for. Without one, `/metrics` is
    /// served only when the server listens on loopback.
    public var metricsTokenFile: String?

    public init() {}

    /// The token in `metricsTokenFile`, or `DOER_METRICS_TOKEN`, or nil.
    public func metricsToken(environment: [String: String] = ProcessInfo.processInfo.environment) throws(DoerError) -> String? {
        if let token = environment["DOER_METRICS_TOKEN"], !token.isEmpty { return token }
        guard let path = metricsTokenFile else { return nil }
        guard let data = FileManager.default.contents(atPath: path),
              let token = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw .configuration("telemetry.metrics_token_file: cannot read a token from \(path)")
        }
        return token
    }

    mutating func apply(_ table: TOMLTable, source: String) throws(DoerError) {
        for (key, value) in table {
            let where_ = "\(source): telemetry.\(key)"
            switch key {
            case "otlp_endpoint":
                guard let text = value.string, let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""),
                      url.host != nil else {
                    throw .configuration("\(where_) must be an http(s) URL, e.g. \"http://127.0.0.1:4318\"")
                }
                otlpEndpoint = url
            case "otlp_protocol":
                guard let text = value.string, ["http/protobuf", "http/json"].contains(text) else {
                    throw .configuration("\(where_) must be \"http/protobuf\" or \"http/json\" (gRPC is not built in)")
                }
                otlpProtocol = text
            case "metrics_token_file":
                guard let path = value.string, path.hasPrefix("/") else { throw .configuration("\(where_) must be an absolute path") }
                metricsTokenFile = path
            default:
                throw .configuration("\(source): unknown key telemetry.\(key) (known: otlp_endpoint, otlp_protocol, metrics_token_file)")
            }
        }
    }
}
