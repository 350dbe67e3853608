import ArgumentParser
import AsyncHTTPClient
import DoerCore
import DoerLanguages
import DoerSandbox
import DoerStore
import Foundation
import NIOCore
import NIOHTTP1

/// `doer bench server`: many SSE clients and executions at once against `doer serve` on
/// loopback, with latency percentiles, errors and the server's memory; a baseline of the
/// same requests with nothing else running is measured in the same run.
struct BenchServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Load on `doer serve` (loopback): concurrent SSE clients and executions; latency, errors, memory."
    )

    @Option(help: "Concurrent SSE clients.") var sseClients = 200
    @Option(help: "Concurrent executions.") var executions = 50
    @Option(help: "The server's --max-concurrent-executions.") var executionSlots = 8
    @Option(help: "Rounds of the SSE load (each client reads the whole stream once per round).") var rounds = 3

    func validate() throws {
        guard sseClients > 0, executions > 0, executionSlots > 0, rounds > 0 else { throw ValidationError("counts must be positive") }
    }

    func run() async throws {
        let home = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-bench-server-\(getpid())")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        chmod(home.path, 0o755)
        defer { try? FileManager.default.removeItem(at: home) }
        let directories = DataDirectory(environment: ["DOER_HOME": home.path])
        let token = try AccessStore(path: directories.accessDatabase).createToken(user: "bench").token
        let script = home.appendingPathComponent("replies.json")
        // Code whose test fails: each run is two full iterations (model reply, sandboxed test run,
        // failure fed back) and ends without a change to approve.
        let reply = "Here is the code.\n\n```file calc.py\ndef add(a, b):\n    return a - b\n```\n\n```file test_calc.py\nfrom calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n```\n"
        try JSONSerialization.data(withJSONObject: ["replies": [reply]]).write(to: script)

        let server = try ServerProcess.start(home: home, arguments: [
            "serve", "--port", "0", "--scripted-model", script.path, "--rate-limit", "1000000", "--rate-burst", "1000000",
            "--max-concurrent-executions", String(executionSlots), "--approval-timeout", "60", "--max-iterations", "2",
        ])
        defer { server.stop() }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = sseClients + executions + 16
        configuration.timeout.connect = .seconds(10)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            try await measure(client: client, base: server.baseURL, token: token, server: server)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    private func measure(client: HTTPClient, base: String, token: String, server: ServerProcess) async throws {
        let http = BenchHTTP(client: client, base: base, token: token)
        let rssStart = server.memory().rss
        // A session with a real agent run (scripted model, real sandbox) gives the events to stream.
        let created = try await http.json(.POST, "/v1/sessions", body: #"{"message": "Write add(a, b) in calc.py with tests"}"#)
        guard let id = created["id"] as? String else { throw DoerError.invalidArgument("could not create a session: \(created)") }
        var done = false
        for _ in 0..<600 where !done {
            let session = try await http.json(.GET, "/v1/sessions/\(id)")
            if let approval = (session["pending_approvals"] as? [[String: Any]])?.first?["id"] as? String {
                _ = try await http.json(.POST, "/v1/sessions/\(id)/approvals/\(approval)", body: #"{"approve": true}"#)
            }
            done = session["outcome"] is String
            if !done { try await Task.sleep(for: .milliseconds(100)) }
        }
        guard done else { throw DoerError.invalidArgument("the session's run did not finish") }
        let events = try await http.stream("/v1/sessions/\(id)/events?follow=false").events

        // Baselines: one request at a time, nothing else running.
        var baseHealth: [Double] = [], baseSSE: [Double] = [], baseExec: [Double] = []
        for _ in 0..<20 { baseHealth.append(try await http.timed { _ = try await http.json(.GET, "/healthz") }) }
        for _ in 0..<20 { baseSSE.append(try await http.stream("/v1/sessions/\(id)/events?follow=false").ms) }
        let execBody = #"{"language": "python", "code": "print(sum(range(1000)))", "timeout_seconds": 10}"#
        for _ in 0..<5 { baseExec.append(try await http.timed { _ = try await http.json(.POST, "/v1/executions", body: execBody) }) }

        // Load: all SSE clients and all executions at once.
        let started = ContinuousClock.now
        let (sse, sseErrors, exec, execErrors) = await withTaskGroup(of: (Bool, Double?).self) { group in
            for _ in 0..<sseClients {
                group.addTask {
                    var total = 0.0
                    for _ in 0..<rounds {
                        guard let result = try? await http.stream("/v1/sessions/\(id)/events?follow=false"),
                              result.events == events else { return (true, nil) }
                        total += result.ms
                    }
                    return (true, total / Double(rounds))
                }
            }
            for _ in 0..<executions {
                group.addTask {
                    do {
                        var ok = false
                        let ms = try await http.timed {
                            let out = try await http.json(.POST, "/v1/executions", body: execBody)
                            ok = out["stdout"] as? String == "499500\n" && out["exit_code"] as? Int == 0
                        }
                        return (false, ok ? ms : nil)
                    } catch {
                        return (false, nil)
                    }
                }
            }
            var sse: [Double] = [], exec: [Double] = [], sseErrors = 0, execErrors = 0
            for await (isSSE, ms) in group {
                switch (isSSE, ms) {
                case (true, let ms?): sse.append(ms)
                case (true, nil): sseErrors += 1
                case (false, let ms?): exec.append(ms)
                case (false, nil): execErrors += 1
                }
            }
            return (sse, sseErrors, exec, execErrors)
        }
        let wall = (ContinuousClock.now - started).milliseconds

        // Live fan-out: every SSE client follows the session while a new run happens; how long
        // after the message is posted does each client see the run's first event, and its last?
        let baseLive = try await liveFanOut(http: http, id: id, clients: 1)
        let live = try await liveFanOut(http: http, id: id, clients: sseClients)
        let memory = server.memory()

        print("doer bench server: \(sseClients) SSE clients × \(rounds) reads of a \(events)-event stream, and \(executions) executions (python, \(executionSlots) at a time), at once, on loopback")
        print("                                   p50       p95       p99       max   (ms)")
        func row(_ name: String, _ values: [Double]) {
            let sorted = values.sorted()
            func pct(_ p: Double) -> String {
                guard !sorted.isEmpty else { return "-".leftPadded(9) }
                return String(format: "%9.1f", sorted[min(sorted.count - 1, Int((p * Double(sorted.count - 1)).rounded()))])
            }
            print(name.padding(toLength: 32, withPad: " ", startingAt: 0) + pct(0.5) + " " + pct(0.95) + " " + pct(0.99) + " " + pct(1))
        }
        row("baseline: GET /healthz alone", baseHealth)
        row("baseline: SSE stream alone", baseSSE)
        row("baseline: execution alone", baseExec)
        row("SSE stream under load", sse)
        row("execution under load", exec)
        row("live first event, 1 client", baseLive.first)
        row("live first event, \(sseClients) clients", live.first)
        row("live done event, \(sseClients) clients", live.done)
        print(String(format: "wall %.0f ms; errors: SSE %d of %d, executions %d of %d, live SSE %d of %d", wall, sseErrors, sseClients,
                     execErrors, executions, live.errors, sseClients))
        print(String(format: "server memory: RSS %.1f MiB at start, %.1f MiB after, peak %.1f MiB",
                     Double(rssStart) / 1_048_576, Double(memory.rss) / 1_048_576, Double(memory.peak) / 1_048_576))
        if sseErrors + execErrors + live.errors > 0 { throw ExitCode(1) }
    }

    /// `clients` followers of session `id`; then a message starts a run, which the bench approves.
    /// Returns, per client, the ms from the POST to the first and to the `done` event.
    private func liveFanOut(http: BenchHTTP, id: String, clients: Int) async throws -> (first: [Double], done: [Double], errors: Int) {
        let count = try await http.stream("/v1/sessions/\(id)/events?follow=false").events
        let ready = AsyncStream<Void>.makeStream()
        let posted = PostedAt()
        return try await withThrowingTaskGroup(of: (Double, Double)?.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    do {
                        return try await http.follow("/v1/sessions/\(id)/events?after=\(count)", ready: ready.continuation, posted: posted)
                    } catch {
                        ready.continuation.yield()
                        return nil
                    }
                }
            }
            var connected = 0
            for await _ in ready.stream {
                connected += 1
                if connected == clients { break }
            }
            posted.mark()
            _ = try await http.json(.POST, "/v1/sessions/\(id)/messages", body: #"{"text": "Write add(a, b) in calc.py with tests"}"#)
            for _ in 0..<600 {
                let session = try await http.json(.GET, "/v1/sessions/\(id)")
                if let approval = (session["pending_approvals"] as? [[String: Any]])?.first?["id"] as? String {
                    _ = try await http.json(.POST, "/v1/sessions/\(id)/approvals/\(approval)", body: #"{"approve": true}"#)
                }
                if session["outcome"] is String { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            var first: [Double] = [], done: [Double] = [], errors = 0
            for try await result in group {
                if let result { first.append(result.0); done.append(result.1) } else { errors += 1 }
            }
            return (first, done, errors)
        }
    }
}

/// When the bench posted the message that starts a live run.
final class PostedAt: @unchecked Sendable {
    private let lock = NSLock()
    private var instant: ContinuousClock.Instant?

    func mark() {
        lock.lock()
        instant = .now
        lock.unlock()
    }

    func ms(until now: ContinuousClock.Instant) -> Double {
        lock.lock()
        defer { lock.unlock() }
        return instant.map { (now - $0).milliseconds } ?? 0
    }
}

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

    func timed(_ body: () async throws -> Void) async throws -> Double {
        let started = ContinuousClock.now
        try await body()
        return (ContinuousClock.now - started).milliseconds
    }
}

/// `doer serve` as a child process on a free loopback port.
final class ServerProcess: @unchecked Sendable {
    let process: Process
    let baseURL: String

    private init(process: Process, baseURL: String) {
        self.process = process
        self.baseURL = baseURL
    }

    static func start(home: URL, arguments: [String]) throws -> ServerProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["DOER_HOME"] = home.path
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        // The first line says where it listens.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: #"http://127\.0\.0\.1:\d+"#, options: .regularExpression) else {
            process.terminate()
            throw DoerError.invalidArgument("doer serve did not start: \(text)")
        }
        return ServerProcess(process: process, baseURL: String(text[range]))
    }

    /// Resident memory now and at its peak, in bytes, from /proc.
    func memory() -> (rss: Int64, peak: Int64) {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int64 {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return (Int64(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
        }
        return (field("VmRSS"), field("VmHWM"))
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}
