import AsyncHTTPClient
import DoerCore
import Foundation
import NIOCore
import NIOHTTP1

/// The few requests the benchmark makes.
struct BenchHTTP: Sendable {
    let client: HTTPClient
    let base: String
    let token: String

    func request(_ method: HTTPMethod, _ path: String, body: String? = nil) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        return request
    }

    func json(_ method: HTTPMethod, _ path: String, body: String? = nil) async throws -> [String: Any] {
        let response = try await client.execute(request(method, path, body: body), timeout: .seconds(120))
        let data = try await response.body.collect(upTo: 16 << 20)
        guard (200..<300).contains(response.status.code) else {
            throw DoerError.invalidArgument("\(method) \(path): HTTP \(response.status.code) \(String(buffer: data))")
        }
        return (try JSONSerialization.jsonObject(with: Data(String(buffer: data).utf8)) as? [String: Any]) ?? [:]
    }

    /// Reads a whole event stream: how many events, and how long it took.
    func stream(_ path: String) async throws -> (events: Int, ms: Double) {
        let started = ContinuousClock.now
        let response = try await client.execute(request(.GET, path), timeout: .seconds(120))
        guard response.status == .ok else { throw DoerError.invalidArgument("GET \(path): HTTP \(response.status.code)") }
        var events = 0
        var tail = ""
        for try await chunk in response.body {
            let text = tail + String(buffer: chunk)
            let frames = text.components(separatedBy: "\n\n")
            tail = frames.last ?? ""
            events += frames.dropLast().filter { $0.hasPrefix("id: ") }.count
        }
        return (events, (ContinuousClock.now - started).milliseconds)
    }

    /// Follows a live stream: says when connected, then returns the ms from `posted` to the first
    /// event and to the `done` event.
    func follow(_ path: String, ready: AsyncStream<Void>.Continuation, posted: PostedAt) async throws -> (Double, Double)? {
        let response = try await client.execute(request(.GET, path), timeout: .seconds(120))
        guard response.status == .ok else { ready.yield(); return nil }
        ready.yield()
        var first: Double?
        var tail = ""
        for try await chunk in response.body {
            let now = ContinuousClock.now
            let text = tail + String(buffer: chunk)
            let frames = text.components(separatedBy: "\n\n")
            tail = frames.last ?? ""
            for frame in frames.dropLast() where frame.hasPrefix("id: ") {
                if first == nil { first = posted.ms(until: now) }
                if frame.contains("\nevent: done\n") { return (first ?? 0, posted.ms(until: now)) }
            }
        }
        return nil
    }

    /// One event as a follower received it: its stored number, and when it arrived (the wall
    /// clock, to compare with the time the server stored it; the monotonic clock, to compare
    /// with the bench's own post).
    struct Received: Sendable {
        var seq: Int64
        var type: String
        var wallClock: Double
        var instant: ContinuousClock.Instant
    }

    /// What a follower got: every event it read, across reconnections, and why it stopped
    /// short of `done` if it did.
    struct Followed: Sendable {
        var received: [Received] = []
        var reconnections = 0
        /// Nil when the stream reached `done`.
        var failure: String? = "never connected"
    }

    /// Follows a live stream the way a browser's EventSource does: says when first connected,
    /// keeps every event until `done`, and when the connection fails or ends early, connects
    /// again with `Last-Event-ID` (up to `reconnections` times). A server that loses, repeats
    /// or reorders events across a reconnection shows in `received`; one that keeps failing,
    /// in `failure`.
    func record(_ path: String, ready: AsyncStream<Void>.Continuation, timeout: TimeAmount,
                reconnections: Int = 5) async -> Followed {
        var followed = Followed()
        var announced = false
        defer { if !announced { ready.yield() } }
        for attempt in 0...reconnections {
            if attempt > 0 {
                followed.reconnections += 1
                try? await Task.sleep(for: .milliseconds(500))
            }
            var request = request(.GET, path)
            if let last = followed.received.last { request.headers.replaceOrAdd(name: "Last-Event-ID", value: String(last.seq)) }
            do {
                let response = try await client.execute(request, timeout: timeout)
                if !announced { announced = true; ready.yield() }
                guard response.status == .ok else {
                    followed.failure = "HTTP \(response.status.code)"
                    continue
                }
                var tail = ""
                for try await chunk in response.body {
                    let (wallClock, instant) = (Date().timeIntervalSince1970, ContinuousClock.now)
                    let text = tail + String(buffer: chunk)
                    let frames = text.components(separatedBy: "\n\n")
                    tail = frames.last ?? ""
                    for frame in frames.dropLast() where frame.hasPrefix("id: ") {
                        let lines = frame.split(separator: "\n")
                        guard let seq = Int64(lines[0].dropFirst(4)) else { continue }
                        let type = lines.first { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) } ?? ""
                        followed.received.append(Received(seq: seq, type: type, wallClock: wallClock, instant: instant))
                        if type == "done" {
                            followed.failure = nil
                            return followed
                        }
                    }
                }
                followed.failure = "the stream ended before its done event"
            } catch {
                followed.failure = "\(error)"
            }
        }
        return followed
    }

    func timed(_ body: () async throws -> Void) async throws -> Double {
        let started = ContinuousClock.now
        try await body()
        return (ContinuousClock.now - started).milliseconds
    }
}
