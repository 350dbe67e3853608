public import DoerCore
public import Foundation
import Synchronization

/// A model that replays canned replies in order (the last one repeats), streamed in small
/// pieces like a real server. For tests, the browser test and offline demos of the UI:
/// `doer serve --scripted-model replies.json` or `DOER_SCRIPTED_MODEL=replies.json`.
///
/// The file: `{"replies": ["first reply", "second reply"], "chunk_delay_ms": 10}`.
public final class ReplayModelProvider: ModelProvider {
    public let name = "scripted"
    private let replies: Mutex<[String]>
    private let chunkDelay: Duration
    private let served = Mutex(0)

    public init(replies: [String], chunkDelay: Duration = .zero) {
        self.replies = Mutex(replies)
        self.chunkDelay = chunkDelay
    }

    public convenience init(contentsOf file: URL) throws(DoerError) {
        struct Script: Decodable {
            var replies: [String]
            var chunk_delay_ms: Int?
        }
        let script: Script
        do {
            script = try JSONDecoder().decode(Script.self, from: Data(contentsOf: file))
        } catch {
            throw .configuration("cannot read the scripted model \(file.path): \(error); it must be {\"replies\": [\"…\"]}")
        }
        guard !script.replies.isEmpty else { throw .configuration("the scripted model \(file.path) has no replies") }
        self.init(replies: script.replies, chunkDelay: .milliseconds(script.chunk_delay_ms ?? 0))
    }

    /// How many requests were answered.
    public var requestCount: Int { served.withLock { $0 } }

    public func stream(_ request: ModelRequest) -> AsyncThrowingStream<ModelDelta, any Error> {
        served.withLock { $0 += 1 }
        let reply = replies.withLock { list -> String in
            guard let first = list.first else { return "I have nothing more to say." }
            if list.count > 1 { list.removeFirst() }
            return first
        }
        let delay = chunkDelay
        return AsyncThrowingStream { continuation in
            let task = Task {
                var rest = Substring(reply)
                while !rest.isEmpty {
                    if delay > .zero {
                        do { try await Task.sleep(for: delay) } catch {
                            continuation.finish(throwing: ModelError.cancelled)
                            return
                        }
                    }
                    continuation.yield(.text(String(rest.prefix(24))))
                    rest = rest.dropFirst(24)
                }
                continuation.yield(.usage(TokenUsage(promptTokens: 100, completionTokens: max(1, reply.count / 4))))
                continuation.yield(.finished(.stop))
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
