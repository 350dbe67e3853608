public import DoerCore
import Foundation

/// How the shared llama-server is started.
public struct LocalServerOptions: Sendable, Hashable {
    /// Sequences decoded at once (`--parallel`); speculative candidates use them.
    public var parallel: Int
    /// Context window of each slot; the server gets `parallel × contextPerSlot`.
    public var contextPerSlot: Int
    /// CPU threads; nil uses every core.
    public var threads: Int?
    /// The port to listen on; nil picks a free one.
    public var port: Int?
    /// Longest wait for the model to load before giving up.
    public var startTimeoutSeconds: Double
    /// Wait after SIGTERM before SIGKILL.
    public var stopGraceSeconds: Double

    public init(parallel: Int = 4, contextPerSlot: Int = 4096, threads: Int? = nil, port: Int? = nil,
                startTimeoutSeconds: Double = 60, stopGraceSeconds: Double = 5) {
        self.parallel = parallel
        self.contextPerSlot = contextPerSlot
        self.threads = threads
        self.port = port
        self.startTimeoutSeconds = startTimeoutSeconds
        self.stopGraceSeconds = stopGraceSeconds
    }

    public init(settings: ModelSettings, port: Int? = nil) {
        self.init(parallel: settings.localParallel, contextPerSlot: settings.localContextPerSlot,
                  threads: settings.localThreads, port: port)
    }

    public var effectiveThreads: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }

    /// llama-server's command line (after the binary).
    public func arguments(model: URL, port: Int) -> [String] {
        [
            "--model", model.path,
            "--host", "127.0.0.1",
            "--port", String(port),
            "--alias", "local",
            "--parallel", String(parallel),
            "--ctx-size", String(parallel * contextPerSlot),
            "--threads", String(effectiveThreads),
            // Continuous batching lets the slots decode together; prompt caching with KV
            // shifting reuses the shared prefix of a conversation's successive prompts.
            "--cont-batching",
            "--cache-prompt",
            "--cache-reuse", "256",
            // The model's own chat template, which is what renders tool calls.
            "--jinja",
            "--no-webui",
            "--metrics",
        ]
    }
}
