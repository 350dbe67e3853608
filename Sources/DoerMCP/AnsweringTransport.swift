import Foundation
import Logging
import MCP

/// A transport that answers every request it received before it lets the server end.
///
/// The SDK's server ends its loop when the client closes its end, and runs each request in a
/// task of its own, so a client that writes a request and closes stdin at once
/// (`echo '{…}' | doer mcp`) got no answer: the program ended with the request still running.
/// This wrapper keeps the message stream open after the client's end closes, until every
/// request it passed on (a message with an `id` and a `method`) has had its response (the
/// same `id` with a `result` or an `error`) sent.
actor AnsweringTransport: Transport {
    private let inner: any Transport
    private var unanswered: Set<String> = []
    private var clientClosed = false
    private var finish: (() -> Void)?

    nonisolated var logger: Logger { Logger(label: "doer.mcp.transport") }

    init(_ inner: any Transport) {
        self.inner = inner
    }

    func connect() async throws { try await inner.connect() }

    func disconnect() async { await inner.disconnect() }

    func send(_ data: Data) async throws {
        // An answer that cannot be written (the client closed stdout too) is as done as one
        // that was: waiting for it would keep the program alive for nobody.
        defer {
            for id in Self.answeredIDs(in: data) { unanswered.remove(id) }
            endIfDone()
        }
        try await inner.send(data)
    }

    func receive() -> AsyncThrowingStream<Data, any Swift.Error> {
        let (stream, continuation) = AsyncThrowingStream<Data, any Swift.Error>.makeStream()
        finish = { continuation.finish() }
        let source = inner
        let relay = Task {
            do {
                for try await data in await source.receive() {
                    self.received(data)
                    continuation.yield(data)
                }
            } catch {
                continuation.finish(throwing: error)
                return
            }
            self.closed()
        }
        continuation.onTermination = { _ in relay.cancel() }
        return stream
    }

    private func received(_ data: Data) {
        unanswered.formUnion(Self.requestIDs(in: data))
    }

    private func closed() {
        clientClosed = true
        endIfDone()
    }

    private func endIfDone() {
        guard clientClosed, unanswered.isEmpty else { return }
        finish?()
        finish = nil
    }

    // MARK: - Reading ids

    /// The ids of the requests in a message (one, or a batch).
    static func requestIDs(in data: Data) -> [String] {
        messages(in: data).filter { $0["method"] != nil }.compactMap { id(of: $0) }
    }

    /// The ids a message answers (a response, or a batch of them).
    static func answeredIDs(in data: Data) -> [String] {
        messages(in: data).filter { $0["method"] == nil && ($0["result"] != nil || $0["error"] != nil) }.compactMap { id(of: $0) }
    }

    private static func messages(in data: Data) -> [[String: Any]] {
        guard let object = try? JSONSerialization.jsonObject(with: data) else { return [] }
        if let one = object as? [String: Any] { return [one] }
        return (object as? [Any])?.compactMap { $0 as? [String: Any] } ?? []
    }

    /// A JSON-RPC id as text, numbers and strings kept apart (`1` is not `"1"`).
    private static func id(of message: [String: Any]) -> String? {
        switch message["id"] {
        case let text as String: "s:" + text
        case let number as NSNumber: "n:" + number.stringValue
        default: nil
        }
    }
}
