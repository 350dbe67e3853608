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

    /// Follows a live stream, says when connected, and keeps every event until `done` (nil if
    /// the stream ended before it or could not be opened).
    func record(_ path: String, ready: AsyncStream<Void>.Continuation, timeout: TimeAmount) async throws -> [Received]? {
        let response = try await client.execute(request(.GET, path), timeout: timeout)
        ready.yield()
        guard response.status == .ok else { return nil }
        var received: [Received] = []
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
                received.append(Received(seq: seq, type: type, wallClock: wallClock, instant: instant))
                if type == "done" { return received }
            }
        }
        return nil
    }

    func timed(_ body: () async throws -> Void) async throws -> Double {
        let started = ContinuousClock.now
        try await body()
        return (ContinuousClock.now - started).milliseconds
    }
}
