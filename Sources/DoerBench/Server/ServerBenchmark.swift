import AsyncHTTPClient
import DoerCore
import DoerStore
public import Foundation
import NIOCore
import NIOHTTP1

/// `doer bench server`: many SSE clients and executions at once against `doer serve` on
/// loopback, with latency percentiles, errors and the server's memory; a baseline of the
/// same requests with nothing else running is measured in the same run.
public struct ServerBenchmark: Sendable {
    /// A latency series: every sample, in milliseconds.
    public struct Series: Sendable {
        public var name: String
        public var samplesMs: [Double]
        public func percentile(_ q: Double) -> Double? { Statistics.percentile(samplesMs, q) }
    }

    public struct Report: Sendable {
        public var series: [Series]
        /// Events in the session's stream each SSE client reads.
        public var events: Int
        public var wallMs: Double
        public var sseErrors: Int
        public var executionErrors: Int
        public var liveErrors: Int
        public var rssStartBytes: Int64
        public var rssEndBytes: Int64
        public var rssPeakBytes: Int64
        public var failed: Bool { sseErrors + executionErrors + liveErrors > 0 }
    }

    public var sseClients: Int
    public var executions: Int
    public var executionSlots: Int
    public var rounds: Int

    public init(sseClients: Int = 200, executions: Int = 50, executionSlots: Int = 8, rounds: Int = 3) {
        self.sseClients = sseClients
        self.executions = executions
        self.executionSlots = executionSlots
        self.rounds = rounds
    }

    /// The scripted model's reply: code whose test fails, so each run is two full iterations
    /// (model reply, sandboxed test run, failure fed back) and ends without a change to approve.
    static let failingReply = "Here is the code.\n\n```file calc.py\ndef add(a, b):\n    return a - b\n```\n\n```file test_calc.py\nfrom calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n```\n"

    /// Starts `doer` (the executable at `doer`) as a server in a fresh home and loads it.
    public func run(doer: URL) async throws -> Report {
        let home = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-bench-server-\(getpid())")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        chmod(home.path, 0o755)
        defer { try? FileManager.default.removeItem(at: home) }
        let directories = DataDirectory(environment: ["DOER_HOME": home.path])
        let token = try AccessStore(path: directories.accessDatabase).createToken(user: "bench").token
        let script = home.appendingPathComponent("replies.json")
        try JSONSerialization.data(withJSONObject: ["replies": [Self.failingReply]]).write(to: script)

        let server = try ServerProcess.start(doer: doer, home: home, arguments: [
            "serve", "--port", "0", "--scripted-model", script.path, "--rate-limit", "1000000", "--rate-burst", "1000000",
            "--max-concurrent-executions", String(executionSlots), "--approval-timeout", "60", "--max-iterations", "2",
        ])
        defer { server.stop() }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = sseClients + executions + 16
        configuration.timeout.connect = .seconds(10)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let report = try await measure(http: BenchHTTP(client: client, base: server.baseURL, token: token), server: server)
            try await client.shutdown()
            return report
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func measure(http: BenchHTTP, server: ServerProcess) async throws -> Report {
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
        let (sseClients, executions, rounds) = (self.sseClients, self.executions, self.rounds)
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
        let series = [
            Series(name: "baseline: GET /healthz alone", samplesMs: baseHealth),
            Series(name: "baseline: SSE stream alone", samplesMs: baseSSE),
            Series(name: "baseline: execution alone", samplesMs: baseExec),
            Series(name: "SSE stream under load", samplesMs: sse),
            Series(name: "execution under load", samplesMs: exec),
            Series(name: "live first event, 1 client", samplesMs: baseLive.first),
            Series(name: "live first event, \(sseClients) clients", samplesMs: live.first),
            Series(name: "live done event, \(sseClients) clients", samplesMs: live.done),
        ]
        return Report(series: series, events: events, wallMs: wall, sseErrors: sseErrors, executionErrors: execErrors,
                      liveErrors: live.errors, rssStartBytes: rssStart, rssEndBytes: memory.rss, rssPeakBytes: memory.peak)
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
