import AsyncHTTPClient
import DoerCore
import DoerStore
public import Foundation
import NIOCore
import NIOHTTP1

/// `doer bench server --replicas 1,2`: the same load against one `doer serve` on PostgreSQL
/// and against several replicas sharing that database, measured in one run.
///
/// The load: `sessions` sessions, and `clients` SSE clients following them live (client `i`
/// follows session `i % sessions` on replica `(i / sessions) % replicas`, so each session
/// has followers on every replica); once every client is connected, a message is posted to
/// every session at once (session `j`'s through replica `j % replicas`), and each starts a
/// run (scripted model, two iterations with a sandboxed pytest) that some replica claims from
/// the queue. A client is done at its session's `done` event. Each configuration gets a fresh
/// database on one PostgreSQL 15 the benchmark starts on a unix socket (fsync on, as in
/// production) and a fresh data folder.
///
/// Reported per replica count: events delivered to the clients per second (from the first
/// post to the last client's `done`), the delivery latency of every event (the time the
/// replica stored it to the time the client read it; both clocks are this machine's), the
/// time from a session's post to its clients' first and `done` events, errors (a client
/// that missed, repeated or reordered a stored event, or saw no `done`; a run that did not
/// end or ended in error), which replica ran how many runs, and the CPU time the replicas
/// and their sandboxes used.
///
/// ```swift
/// let outcome = try await ReplicaBenchmark(replicaCounts: [1, 2], clients: 40, sessions: 10).run(doer: doer)
/// ```
public struct ReplicaBenchmark: Sendable {
    /// One replica count's figures, all rounds together.
    public struct Row: Sendable {
        public var replicas: Int
        /// Runs executed at once across the replicas.
        public var runSlots: Int
        public var wallMs: [Double] = []
        /// Events delivered per second, one figure per round.
        public var roundEventsPerSecond: [Double] = []
        /// Events the clients received, and the events of their sessions as stored.
        public var delivered = 0
        public var expected = 0
        /// Stored → received, every event of every client.
        public var deliveryMs: [Double] = []
        /// Message posted → the client's first event, and its `done` event; one per client.
        public var firstEventMs: [Double] = []
        public var doneMs: [Double] = []
        public var clientErrors = 0
        /// Why clients failed (a few), and how often clients reconnected with `Last-Event-ID`.
        public var clientFailures: [String] = []
        public var reconnections = 0
        public var runErrors = 0
        /// Finished runs by the replica that claimed them (`claimed_by`).
        public var runsByReplica: [String: Int] = [:]
        /// CPU seconds of the replicas and the children they reaped, during the load.
        public var cpuSeconds = 0.0

        public var errors: Int { clientErrors + runErrors }
        public var eventsPerSecond: Double { Statistics.median(roundEventsPerSecond) ?? .nan }
    }

    public struct Report: Sendable {
        public var rows: [Row]
        public var postgres: String
        public var machine: String
        public var cores: Int
        public var failed: Bool { rows.contains { $0.errors > 0 } }
    }

    public enum Outcome: Sendable {
        case measured(Report)
        /// The series could not run here; the reason says what is missing.
        case skipped(String)
    }

    /// The configurations, e.g. `[1, 2]`.
    public var replicaCounts: [Int]
    public var clients: Int
    public var sessions: Int
    /// `DOER_REPLICA_MAX_RUNS` of each replica.
    public var runsPerReplica: Int
    /// Rounds; each measures every configuration once, in alternating order.
    public var rounds: Int
    /// How long the clients may take to connect before the run is given up.
    public var connectDeadline: Duration = .seconds(120)
    /// Where PostgreSQL's programs are looked for before anything starts.
    public var postgresBinaries = TemporaryPostgresServer.binaries

    public init(replicaCounts: [Int] = [1, 2], clients: Int = 200, sessions: Int = 20, runsPerReplica: Int = 4, rounds: Int = 1) {
        self.replicaCounts = replicaCounts
        self.clients = clients
        self.sessions = sessions
        self.runsPerReplica = runsPerReplica
        self.rounds = rounds
    }

    /// Why the series cannot run on this machine, or nil when it can.
    public func missingPostgres() -> String? {
        let initdb = postgresBinaries.appendingPathComponent("initdb").path
        guard FileManager.default.isExecutableFile(atPath: initdb) else {
            return "PostgreSQL 15 is not installed (no \(initdb)); `apt-get install postgresql-15` (scripts/setup.sh all does it)"
        }
        guard getpwnam("postgres") != nil else { return "no `postgres` user to run PostgreSQL as; the postgresql-15 package creates it" }
        return nil
    }

    /// Starts PostgreSQL, then for each configuration and round the replicas (the executable
    /// at `doer`), and loads them.
    public func run(doer: URL, progress: @Sendable (String) -> Void = { _ in }) async throws -> Outcome {
        guard !replicaCounts.isEmpty, replicaCounts.allSatisfy({ $0 > 0 }), clients > 0, sessions > 0, runsPerReplica > 0, rounds > 0 else {
            throw DoerError.invalidArgument("replica benchmark: replica counts, clients, sessions, runs per replica and rounds must be positive")
        }
        if let reason = missingPostgres() { return .skipped(reason) }
        progress("starting PostgreSQL 15 on a unix socket (fsync on)")
        let server = try TemporaryPostgresServer(durable: true)
        defer { server.stop() }
        var rows = replicaCounts.map { Row(replicas: $0, runSlots: $0 * runsPerReplica) }
        for round in 0..<rounds {
            let order = round % 2 == 0 ? Array(rows.indices) : rows.indices.reversed()
            for index in order {
                progress("round \(round + 1) of \(rounds): \(rows[index].replicas) replica\(rows[index].replicas == 1 ? "" : "s")")
                try await measure(replicas: rows[index].replicas, doer: doer, postgres: server, into: &rows[index])
            }
        }
        return .measured(Report(rows: rows, postgres: "PostgreSQL 15 started here on a unix socket, fsync on, synchronous_commit on",
                                machine: Machine.description, cores: ProcessInfo.processInfo.activeProcessorCount))
    }

    private func measure(replicas count: Int, doer: URL, postgres: TemporaryPostgresServer, into row: inout Row) async throws {
        let database = "bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        try postgres.psql("CREATE DATABASE \(database)", database: "postgres")
        let url = postgres.url(database: database)
        let store = try PostgresStore(url: url)
        defer { store.close() }
        let token = try AccessStore(storage: store.access).createToken(user: "bench").token

        let home = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-bench-replicas-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        chmod(home.path, 0o755)
        defer { try? FileManager.default.removeItem(at: home) }
        let script = home.appendingPathComponent("replies.json")
        try JSONSerialization.data(withJSONObject: ["replies": [ServerBenchmark.failingReply]]).write(to: script)

        var servers: [ServerProcess] = []
        defer { servers.forEach { $0.stop() } }
        for number in 1...count {
            servers.append(try ServerProcess.start(doer: doer, home: home, arguments: [
                "serve", "--port", "0", "--scripted-model", script.path, "--rate-limit", "1000000", "--rate-burst", "1000000",
                "--approval-timeout", "60", "--max-iterations", "2",
                // Every client comes from 127.0.0.1: the default per-address limit would close most of them.
                "--max-connections-per-address", String(clients + sessions + 16),
            ], environment: [
                "DOER_STORE_URL": url, "DOER_REPLICA_ID": "replica-\(number)", "DOER_REPLICA_MAX_RUNS": String(runsPerReplica),
            ]))
        }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = clients + sessions + 16
        configuration.timeout.connect = .seconds(30)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let https = servers.map { BenchHTTP(client: client, base: $0.baseURL, token: token) }
            try await load(https, servers: servers, store: store, into: &row)
            try await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw error
        }
        let claimed = try postgres.psql("SELECT claimed_by || ' ' || count(*) FROM run_queue WHERE state = 'finished' GROUP BY claimed_by",
                                        database: database)
        for line in claimed.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let runs = Int(parts[1]) { row.runsByReplica[String(parts[0]), default: 0] += runs }
        }
    }

    private func load(_ https: [BenchHTTP], servers: [ServerProcess], store: PostgresStore, into row: inout Row) async throws {
        let (clients, sessionCount, connectDeadline) = (self.clients, self.sessions, self.connectDeadline)
        var ids: [String] = []
        for index in 0..<sessionCount {
            let created = try await https[index % https.count].json(.POST, "/v1/sessions", body: #"{"title": "bench \#(index)"}"#)
            guard let id = created["id"] as? String else { throw DoerError.invalidArgument("could not create a session: \(created)") }
            ids.append(id)
        }
        let cpuBefore = servers.map { $0.cpuSeconds() }.reduce(0, +)
        let ready = AsyncStream<Void>.makeStream()
        let postedAt = PostedTimes(count: sessionCount)
        let sessionIDs = ids
        let (followed, wall) = try await withThrowingTaskGroup(of: (Int, BenchHTTP.Followed).self) { group in
            for index in 0..<clients {
                let session = index % sessionCount
                let http = https[(index / sessionCount) % https.count]
                group.addTask {
                    (session, await http.record("/v1/sessions/\(sessionIDs[session])/events", ready: ready.continuation,
                                                timeout: .minutes(30)))
                }
            }
            // A client that never connects must not hold the run forever.
            let deadline = Task {
                try? await Task.sleep(for: connectDeadline)
                ready.continuation.finish()
            }
            var connected = 0
            for await _ in ready.stream {
                connected += 1
                if connected == clients { break }
            }
            deadline.cancel()
            guard connected == clients else {
                group.cancelAll()
                throw DoerError.invalidArgument("only \(connected) of \(clients) SSE clients had connected after \(connectDeadline)")
            }
            let started = ContinuousClock.now
            // Every message at once, each through its replica; a refused post is a run error below.
            await withTaskGroup(of: Void.self) { posts in
                for (index, id) in sessionIDs.enumerated() {
                    posts.addTask {
                        postedAt.mark(index)
                        _ = try? await https[index % https.count].json(.POST, "/v1/sessions/\(id)/messages",
                                                                       body: #"{"text": "Write add(a, b) in calc.py with tests"}"#)
                    }
                }
            }
            var followed: [(Int, BenchHTTP.Followed)] = []
            for try await result in group { followed.append(result) }
            return (followed, (ContinuousClock.now - started).milliseconds)
        }
        row.cpuSeconds += servers.map { $0.cpuSeconds() }.reduce(0, +) - cpuBefore

        // What each session stored is what each of its clients must have received, in order, once.
        var stored: [[StoredEvent]] = []
        for id in ids {
            let events = try store.sessions.events(of: id)
            stored.append(events)
            let outcome = try store.sessions.sessions(prefix: id, limit: 1).first?.outcome
            if events.last?.type != "done" || outcome == nil || outcome == "error" { row.runErrors += 1 }
        }
        var delivered = 0
        for (session, follower) in followed {
            row.expected += stored[session].count
            row.reconnections += follower.reconnections
            let received = follower.received
            delivered += received.count
            guard follower.failure == nil, received.map(\.seq) == stored[session].map(\.seq), let first = received.first, let last = received.last else {
                row.clientErrors += 1
                if row.clientFailures.count < 5 {
                    row.clientFailures.append(follower.failure ?? "received \(received.map(\.seq)), stored \(stored[session].map(\.seq))")
                }
                continue
            }
            for (event, storedEvent) in zip(received, stored[session]) {
                row.deliveryMs.append((event.wallClock - storedEvent.createdAt) * 1000)
            }
            row.firstEventMs.append(postedAt.ms(session, until: first.instant))
            row.doneMs.append(postedAt.ms(session, until: last.instant))
        }
        row.delivered += delivered
        row.wallMs.append(wall)
        row.roundEventsPerSecond.append(Double(delivered) / (wall / 1000))
    }
}

/// When the bench posted each session's message.
private final class PostedTimes: Sendable {
    private let times: [PostedAt]

    init(count: Int) {
        times = (0..<count).map { _ in PostedAt() }
    }

    func mark(_ index: Int) { times[index].mark() }

    func ms(_ index: Int, until now: ContinuousClock.Instant) -> Double { times[index].ms(until: now) }
}
