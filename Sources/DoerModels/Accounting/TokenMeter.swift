public import DoerCore

/// Adds up the tokens of every request in a session, per provider.
public actor TokenMeter {
    public private(set) var total = TokenUsage()
    public private(set) var requests = 0
    public private(set) var byProvider: [String: TokenUsage] = [:]
    /// Time spent inside model streams, from the request to its last delta, summed over
    /// requests (overlapping ones count each).
    public private(set) var streamMs: Double = 0

    public init() {}

    public func recordStream(milliseconds: Double) {
        streamMs += milliseconds
    }

    public func record(_ usage: TokenUsage, provider: String) {
        total = total + usage
        requests += 1
        byProvider[provider, default: TokenUsage()] = byProvider[provider, default: TokenUsage()] + usage
    }
}

/// A provider that reports every request's usage to a meter as it streams by.
public struct MeteredProvider: ModelProvider {
    public let base: any ModelProvider
    public let meter: TokenMeter
    public var name: String { base.name }
    public var contextWindow: Int? { base.contextWindow }

    public init(_ base: any ModelProvider, meter: TokenMeter) {
        self.base = base
        self.meter = meter
    }

    public func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelDelta, any Error> {
        let upstream = base.stream(request)
        let meter = meter, name = base.name
        return AsyncThrowingStream { continuation in
            let task = Task {
                let started = ContinuousClock.now
                do {
                    for try await delta in upstream {
                        if case .usage(let usage) = delta { await meter.record(usage, provider: name) }
                        continuation.yield(delta)
                    }
                    await meter.recordStream(milliseconds: (ContinuousClock.now - started).milliseconds)
                    continuation.finish()
                } catch {
                    await meter.recordStream(milliseconds: (ContinuousClock.now - started).milliseconds)
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
