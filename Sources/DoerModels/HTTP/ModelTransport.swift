import AsyncHTTPClient
import DoerCore
import Foundation
import NIOCore
import NIOHTTP1

/// Sends one JSON request to a model endpoint and streams back its server-sent events,
/// with retries and backoff on 429/5xx before anything was streamed, an idle timeout
/// while streaming, and cancellation that closes the connection.
struct ModelTransport: Sendable {
    struct Request: Sendable {
        var url: String
        var headers: [(String, String)]
        var body: Data
    }

    /// Turns an error answer into the error a person can act on.
    typealias ErrorMapper = @Sendable (_ status: Int, _ headers: HTTPHeaders, _ body: String) -> ModelError

    let provider: String
    let idleTimeoutSeconds: Double
    let maxRetries: Int
    /// First backoff; doubled on each retry, with jitter, capped at 30 s.
    var initialBackoffSeconds: Double = 0.5

    /// One client for the whole process; requests share its connection pool.
    static let client = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: HTTPClient.Configuration(timeout: .init(connect: .seconds(10))))

    func events(_ request: Request, mapError: @escaping ErrorMapper) -> AsyncThrowingStream<ServerSentEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<ServerSentEvent, any Error>.makeStream()
        let task = Task {
            do {
                try await run(request, mapError: mapError, continuation: continuation)
                continuation.finish()
            } catch is CancellationError {
                continuation.finish(throwing: ModelError.cancelled)
            } catch let error as ModelError {
                continuation.finish(throwing: error)
            } catch {
                continuation.finish(throwing: Self.map(error, url: request.url, timeout: idleTimeoutSeconds))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func run(_ request: Request, mapError: ErrorMapper,
                     continuation: AsyncThrowingStream<ServerSentEvent, any Error>.Continuation) async throws {
        var attempt = 0
        while true {
            try Task.checkCancellation()
            var httpRequest = HTTPClientRequest(url: request.url)
            httpRequest.method = .POST
            httpRequest.headers.add(name: "Content-Type", value: "application/json")
            httpRequest.headers.add(name: "Accept", value: "text/event-stream")
            for (name, value) in request.headers { httpRequest.headers.add(name: name, value: value) }
            httpRequest.body = .bytes(ByteBuffer(bytes: request.body))

            let response: HTTPClientResponse
            do {
                response = try await Self.client.execute(httpRequest, timeout: .milliseconds(Int64(idleTimeoutSeconds * 1000)))
            } catch {
                // Servers such as llama.cpp's close kept-alive connections after each
                // streamed answer; a request sent on such a stale connection fails before
                // anything arrives and is safe to send again at once.
                if Self.isStaleConnection(error) && attempt < maxRetries + 1 {
                    attempt += 1
                    continue
                }
                let mapped = Self.map(error, url: request.url, timeout: idleTimeoutSeconds)
                if mapped.isRetryable && attempt < maxRetries {
                    attempt += 1
                    try await backoff(attempt, retryAfter: nil)
                    continue
                }
                throw mapped
            }
            guard response.status == .ok else {
                let body = try await response.body.collect(upTo: 1 << 20)
                let error = mapError(Int(response.status.code), response.headers, String(buffer: body))
                if error.isRetryable && attempt < maxRetries {
                    attempt += 1
                    try await backoff(attempt, retryAfter: Self.retryAfter(response.headers))
                    continue
                }
                throw error
            }
            try await stream(response.body, url: request.url, into: continuation)
            return
        }
    }

    /// Reads the body, yielding events; a silence longer than the idle timeout ends it.
    private func stream(_ body: HTTPClientResponse.Body, url: String,
                        into continuation: AsyncThrowingStream<ServerSentEvent, any Error>.Continuation) async throws {
        let watchdog = IdleWatchdog(seconds: idleTimeoutSeconds)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var parser = ServerSentEventParser()
                for try await buffer in body {
                    await watchdog.touch()
                    for event in parser.feed(buffer.readableBytesView) { continuation.yield(event) }
                }
                for event in parser.finish() { continuation.yield(event) }
            }
            group.addTask {
                try await watchdog.wait()
                throw ModelError.timedOut(url: url, seconds: idleTimeoutSeconds)
            }
            try await group.next()
            group.cancelAll()
        }
    }

    private func backoff(_ attempt: Int, retryAfter: Double?) async throws {
        let exponential = initialBackoffSeconds * pow(2, Double(attempt - 1)) * Double.random(in: 0.8...1.2)
        let seconds = min(retryAfter ?? exponential, 30)
        try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
    }

    static func isStaleConnection(_ error: any Error) -> Bool {
        if let clientError = error as? HTTPClientError, clientError == .remoteConnectionClosed { return true }
        let text = String(describing: error)
        return text.contains("remoteConnectionClosed") || text.contains("ioOnClosedChannel")
    }

    static func retryAfter(_ headers: HTTPHeaders) -> Double? {
        headers.first(name: "retry-after").flatMap(Double.init)
    }

    /// Transport failures in terms a person can act on.
    static func map(_ error: any Error, url: String, timeout: Double) -> ModelError {
        if let modelError = error as? ModelError { return modelError }
        if error is CancellationError { return .cancelled }
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return .timedOut(url: url, seconds: timeout)
            case .cancelled: return .cancelled
            default: break
            }
        }
        let text = String(describing: error)
        if text.contains("refused") || text.contains("Refused") || text.contains("ECONNREFUSED") {
            return .connectionRefused(url: url)
        }
        if text.contains("UnknownHost") || text.contains("DNS") || text.contains("unreachable") {
            return .unreachable(url: url, reason: text.contains("UnknownHost") ? "unknown host" : String(text.prefix(120)))
        }
        if text.contains("connectTimeout") || text.contains("timed out") {
            return .timedOut(url: url, seconds: timeout)
        }
        return .invalidResponse(provider: url, detail: text)
    }
}

/// Fires when nothing was touched for `seconds`.
actor IdleWatchdog {
    private let seconds: Double
    private var last = ContinuousClock.now

    init(seconds: Double) {
        self.seconds = seconds
    }

    func touch() {
        last = .now
    }

    func wait() async throws {
        while true {
            let due = last + .milliseconds(Int64(seconds * 1000))
            if ContinuousClock.now >= due { return }
            try await Task.sleep(until: due, clock: .continuous)
        }
    }
}
