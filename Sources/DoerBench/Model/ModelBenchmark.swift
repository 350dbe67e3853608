import DoerCore
public import DoerModels
import Foundation
import Synchronization

/// `doer bench model`: time to first token, decoding speed for 1 and for N concurrent
/// streams, and what a cached prompt prefix saves — all against one provider in one run.
public struct ModelBenchmark: Sendable {
    public struct StreamFigures: Sendable, Codable {
        public var timeToFirstTokenMs: Double
        public var totalMs: Double
        public var completionTokens: Int
    }

    public struct Report: Sendable, Codable {
        public var single: StreamFigures
        public var singleTokensPerSecond: Double
        public var concurrentStreams: Int
        public var concurrentTokensPerSecond: Double
        public var concurrentTimeToFirstTokenMs: Double
        public var coldPrefixTimeToFirstTokenMs: Double
        public var cachedPrefixTimeToFirstTokenMs: Double
        public var cachedPromptTokens: Int?
    }

    public let provider: any ModelProvider
    public var concurrency: Int
    public var maxTokens: Int

    public init(provider: any ModelProvider, concurrency: Int = 4, maxTokens: Int = 128) {
        self.provider = provider
        self.concurrency = concurrency
        self.maxTokens = maxTokens
    }

    public func run(progress: @Sendable (String) -> Void = { _ in }) async throws -> Report {
        progress("warm-up")
        _ = try await measure(prompt: "Say OK.", maxTokens: 4, seed: 0)

        progress("one stream")
        let single = try await measure(prompt: "Write a Python function that returns the n-th Fibonacci number, with a docstring.", seed: 1)

        progress("\(concurrency) concurrent streams")
        let started = ContinuousClock.now
        let streams = try await withThrowingTaskGroup(of: StreamFigures.self) { group in
            for index in 0..<concurrency {
                group.addTask {
                    try await measure(prompt: "Write a Python function number \(index) that sorts a list of \(index + 3) words by length.", seed: 10 + index)
                }
            }
            return try await group.reduce(into: [StreamFigures]()) { $0.append($1) }
        }
        let wall = (ContinuousClock.now - started).milliseconds

        progress("prompt cache")
        // A long shared prefix, as the agent's system prompt and files are: the second
        // request with the same prefix should start sooner when the server caches it.
        let prefix = (0..<60).map { "Line \($0): the project keeps its helpers in utils.py and its tests in tests/." }.joined(separator: "\n")
        let salt = UUID().uuidString
        let cold = try await measure(prompt: "\(salt)\n\(prefix)\nQuestion A: name one file.", maxTokens: 8, seed: 100)
        let warm = try await measure(prompt: "\(salt)\n\(prefix)\nQuestion B: name another file.", maxTokens: 8, seed: 101)

        return Report(
            single: single,
            singleTokensPerSecond: Double(single.completionTokens) / max(single.totalMs - single.timeToFirstTokenMs, 1) * 1000,
            concurrentStreams: concurrency,
            concurrentTokensPerSecond: Double(streams.map(\.completionTokens).reduce(0, +)) / max(wall, 1) * 1000,
            concurrentTimeToFirstTokenMs: Statistics.median(streams.map(\.timeToFirstTokenMs)) ?? 0,
            coldPrefixTimeToFirstTokenMs: cold.timeToFirstTokenMs,
            cachedPrefixTimeToFirstTokenMs: warm.timeToFirstTokenMs,
            cachedPromptTokens: lastCached.value)
    }

    private let lastCached = CachedTokens()

    private func measure(prompt: String, maxTokens: Int? = nil, seed: Int) async throws -> StreamFigures {
        let request = ModelRequest(messages: [.user(prompt)], temperature: 0, seed: seed, maxTokens: maxTokens ?? self.maxTokens)
        let start = ContinuousClock.now
        var first: Double?
        var tokens = 0
        var pieces = 0
        for try await delta in provider.stream(request) {
            switch delta {
            case .text:
                pieces += 1
                if first == nil { first = (ContinuousClock.now - start).milliseconds }
            case .usage(let usage):
                tokens = usage.completionTokens
                if let cached = usage.cachedPromptTokens { lastCached.value = cached }
            default:
                break
            }
        }
        let total = (ContinuousClock.now - start).milliseconds
        return StreamFigures(timeToFirstTokenMs: first ?? total, totalMs: total, completionTokens: tokens > 0 ? tokens : pieces)
    }
}

/// The cached-token count of the last request, when the server reports one.
final class CachedTokens: Sendable {
    private let stored = Mutex<Int?>(nil)
    var value: Int? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}

