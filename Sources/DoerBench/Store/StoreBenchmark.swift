public import DoerCore
import DoerStore
public import Foundation
import Synchronization

/// `doer bench store`: appends per second to the audit trail on SQLite and on PostgreSQL in
/// one run, with one writer and with N at once. Both engines are fresh: SQLite files in a
/// temporary data folder (the default store's settings: WAL, SQLite's own synchronous
/// default), and a PostgreSQL 15 started on a unix socket in a temporary folder with fsync
/// on (`TemporaryPostgresServer(durable: true)`), or an empty database given by URL. Each
/// append is `AuditLog.append`, what every recorded decision costs: read the head and insert
/// the next record in one transaction under the chain's lock.
///
/// Writers are threads of this one process, each appending one record after another
/// (`AuditLog` is synchronous; Swift tasks would be run at most one per core). On SQLite the
/// threads queue on the pool's one writer connection, so no time is lost to the file lock as
/// it would be between processes; on PostgreSQL each thread has a connection of its own and
/// they queue on the advisory lock. Rounds alternate the engines, so a slow patch of the
/// machine falls on both; the figure is the median round.
public struct StoreBenchmark: Sendable {
    public enum Engine: String, Sendable, Codable, CaseIterable {
        case sqlite
        case postgres
    }

    public struct Series: Sendable, Codable {
        public var engine: Engine
        public var writers: Int
        /// Appends per second of each round.
        public var roundsPerSecond: [Double]
        /// Every append's own time, all rounds together.
        public var latenciesMs: [Double]
        public var appendsPerSecond: Double { Statistics.median(roundsPerSecond) ?? .nan }
        public func latency(_ q: Double) -> Double { Statistics.percentile(latenciesMs, q) ?? .nan }
    }

    /// PostgreSQL's rate read against SQLite's for one writer count.
    public struct Comparison: Sendable, Codable {
        public var writers: Int
        public var ratio: Double
        /// The project's goal: PostgreSQL at least half as fast as SQLite.
        public static let goal = 0.5
        public var met: Bool { ratio >= Self.goal }
    }

    public struct Report: Sendable, Codable {
        public var series: [Series]
        public var comparisons: [Comparison]
        public var appendsPerSeries: Int
        public var rounds: Int
        public var sqlite: String
        public var postgres: String
        /// Records in each chain at the end, each chain verified intact.
        public var sqliteRecords: Int
        public var postgresRecords: Int
        public var machine: String
    }

    /// The concurrent writer count (the other series has one).
    public var writers: Int
    /// Appends per series and round, shared out among the writers.
    public var appends: Int
    public var rounds: Int
    /// An empty PostgreSQL database to use instead of starting one.
    public var postgresURL: String?
    /// False starts the server with `synchronous_commit = off`: a commit no longer waits for
    /// its WAL on disk, the durability SQLite's WAL with `synchronous = NORMAL` gives.
    public var postgresSynchronousCommit = true
    /// Appends to each engine before anything is timed: connections, the schema, the page cache.
    public var warmUps = 50

    public init(writers: Int = 8, appends: Int = 1000, rounds: Int = 3, postgresURL: String? = nil) {
        self.writers = writers
        self.appends = appends
        self.rounds = rounds
        self.postgresURL = postgresURL
    }

    public func run(progress: @Sendable (String) -> Void = { _ in }) throws(DoerError) -> Report {
        guard writers > 0, appends >= writers, rounds > 0 else {
            throw .invalidArgument("store benchmark: writers and rounds must be positive, and appends at least the writers")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("doer-bench-store-\(getpid())-\(UUID().uuidString.prefix(8))", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let sqlite = try Stores.open(StoreSettings(), directories: DataDirectory(environment: ["DOER_HOME": scratch.path]),
                                     auditKey: nil).audit

        var server: TemporaryPostgresServer?
        defer { server?.stop() }
        let postgresStore: PostgresStore
        let postgresDescription: String
        do {
            let url: String
            if let postgresURL {
                url = postgresURL
                postgresDescription = "the database at \(try PostgresAddress(url: postgresURL))"
            } else {
                progress("starting PostgreSQL 15 on a unix socket (fsync on)")
                let started = try TemporaryPostgresServer(durable: true, settings: postgresSynchronousCommit ? [:] : ["synchronous_commit": "off"])
                server = started
                url = try started.makeDatabase()
                postgresDescription = "PostgreSQL 15 started here on a unix socket, fsync on, "
                    + (postgresSynchronousCommit ? "synchronous_commit on (each commit waits for its WAL on disk)"
                        : "synchronous_commit off (commits do not wait for the disk)")
            }
            postgresStore = try PostgresStore(address: PostgresAddress(url: url), connections: max(8, writers))
        } catch let error as DoerError {
            throw error
        } catch {
            throw .configuration("cannot start PostgreSQL for the benchmark: \(error)")
        }
        defer { postgresStore.close() }
        let postgres = AuditLog(storage: postgresStore.audit)
        guard try postgres.records(limit: 1).isEmpty else {
            throw .configuration("\(postgresDescription) already holds audit records; the benchmark appends thousands of notes, so give it an empty database")
        }
        let logs: [(Engine, AuditLog)] = [(.sqlite, sqlite), (.postgres, postgres)]

        for (engine, log) in logs {
            progress("warming up \(engine.rawValue)")
            _ = try Self.measure(log, writers: 1, appends: warmUps, label: "warm-up")
        }
        let counts = writers == 1 ? [1] : [1, writers]
        var series: [Series] = counts.flatMap { count in
            Engine.allCases.map { Series(engine: $0, writers: count, roundsPerSecond: [], latenciesMs: []) }
        }
        for round in 1...rounds {
            for count in counts {
                // Alternate which engine goes first, so neither always runs on a warmer machine.
                let order = round.isMultiple(of: 2) ? logs.reversed() : logs
                for (engine, log) in order {
                    progress("round \(round) of \(rounds): \(engine.rawValue), \(count) writer\(count == 1 ? "" : "s")")
                    let (seconds, latencies) = try Self.measure(log, writers: count, appends: appends, label: "round \(round)")
                    let index = series.firstIndex { $0.engine == engine && $0.writers == count }!
                    series[index].roundsPerSecond.append(Double(appends) / seconds)
                    series[index].latenciesMs += latencies
                }
            }
        }

        // Every append was committed once: each chain verifies and holds exactly as many.
        let expected = warmUps + rounds * counts.count * appends
        var records: [Engine: Int] = [:]
        for (engine, log) in logs {
            let verification = try log.verify()
            guard verification.intact, verification.records == expected else {
                throw .configuration("after the benchmark the \(engine.rawValue) chain holds \(verification.records) records, expected \(expected)"
                    + (verification.firstBreak.map { ", broken at \($0)" } ?? ""))
            }
            records[engine] = verification.records
        }
        let comparisons = counts.map { count in
            let rate = { (engine: Engine) in series.first { $0.engine == engine && $0.writers == count }!.appendsPerSecond }
            return Comparison(writers: count, ratio: rate(.postgres) / rate(.sqlite))
        }
        return Report(series: series, comparisons: comparisons, appendsPerSeries: appends, rounds: rounds,
                      sqlite: "SQLite in a temporary data folder, WAL with synchronous=NORMAL, as the store opens it (commits are not flushed to disk one by one)", postgres: postgresDescription,
                      sqliteRecords: records[.sqlite] ?? 0, postgresRecords: records[.postgres] ?? 0, machine: Machine.description)
    }

    /// `appends` notes from `writers` threads started together: the wall time from the start
    /// to the last commit, and each append's own time.
    static func measure(_ log: AuditLog, writers: Int, appends: Int, label: String) throws(DoerError) -> (seconds: Double, latenciesMs: [Double]) {
        let collected = Collected()
        let ready = DispatchGroup(), done = DispatchGroup()
        let start = DispatchSemaphore(value: 0)
        for writer in 0..<writers {
            let share = appends / writers + (writer < appends % writers ? 1 : 0)
            ready.enter()
            done.enter()
            Thread.detachNewThread {
                defer { done.leave() }
                ready.leave()
                start.wait()
                var mine: [Double] = []
                mine.reserveCapacity(share)
                for index in 0..<share {
                    let began = ContinuousClock.now
                    do throws(DoerError) {
                        try log.append(.note, actor: "doer-bench", details: ["bench": .string(label), "writer": .int(Int64(writer)),
                                                                            "index": .int(Int64(index))])
                    } catch {
                        collected.failure.withLock { $0 = $0 ?? error }
                        break
                    }
                    mine.append((ContinuousClock.now - began).milliseconds)
                }
                collected.latencies.withLock { $0 += mine }
            }
        }
        ready.wait()
        let began = ContinuousClock.now
        for _ in 0..<writers { start.signal() }
        done.wait()
        let seconds = (ContinuousClock.now - began).milliseconds / 1000
        if let error = collected.failure.withLock({ $0 }) { throw error }
        return (seconds, collected.latencies.withLock { $0 })
    }
}

/// What the writer threads of one measurement hand back.
private final class Collected: Sendable {
    let latencies = Mutex<[Double]>([])
    let failure = Mutex<DoerError?>(nil)
}
