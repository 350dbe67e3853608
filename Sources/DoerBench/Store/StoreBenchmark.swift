public import DoerCore
import DoerStore
public import Foundation
import Synchronization

/// `doer bench store`: appends per second to the audit trail on SQLite and on PostgreSQL in
/// one run, each engine at both durabilities, with one writer and with N at once, so the
/// engines are compared like for like:
///
/// - `sqlite-normal`: the store's own settings (WAL, `synchronous=NORMAL`): a commit is not
///   flushed to disk; an OS crash or power loss can lose the last commits, an application
///   crash cannot.
/// - `postgres-off`: `synchronous_commit=off` on the connections (`[store] synchronous_commit`):
///   the same trade.
/// - `sqlite-full` (`synchronous=FULL`) and `postgres-on` (PostgreSQL's default, the store's):
///   every commit waits for its WAL on disk.
///
/// Each engine is fresh: SQLite files in temporary data folders, and a PostgreSQL 15 started on
/// a unix socket in a temporary folder with fsync on (`TemporaryPostgresServer(durable: true)`),
/// a database for each setting; or one empty database given by URL, which both PostgreSQL
/// series then append to as one chain. Each append is `AuditLog.append`, what every recorded
/// decision costs: read the head and insert the next record in one transaction under the
/// chain's lock.
///
/// Writers are threads of this one process, each appending one record after another
/// (`AuditLog` is synchronous; Swift tasks would be run at most one per core). On SQLite the
/// threads queue on the pool's one writer connection, so no time is lost to the file lock as
/// it would be between processes; on PostgreSQL each thread has a connection of its own and
/// they queue on the advisory lock. Rounds alternate the order of the engines, so a slow patch
/// of the machine falls on all; the figure is the median round.
public struct StoreBenchmark: Sendable {
    public enum Engine: String, Sendable, Codable, CaseIterable {
        case sqliteNormal = "sqlite-normal"
        case sqliteFull = "sqlite-full"
        case postgresOn = "postgres-on"
        case postgresOff = "postgres-off"

        /// Whether a commit waits for its WAL on disk.
        public var flushesEachCommit: Bool { self == .sqliteFull || self == .postgresOn }

        public var setting: String {
            switch self {
            case .sqliteNormal: "SQLite, WAL, synchronous=NORMAL (the store's setting)"
            case .sqliteFull: "SQLite, WAL, synchronous=FULL"
            case .postgresOn: "PostgreSQL, synchronous_commit=on (the store's default)"
            case .postgresOff: "PostgreSQL, synchronous_commit=off ([store] synchronous_commit = \"off\")"
            }
        }
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

    /// A PostgreSQL series' rate read against a SQLite one's for one writer count.
    public struct Comparison: Sendable, Codable {
        public var writers: Int
        public var postgres: Engine
        public var sqlite: Engine
        public var ratio: Double
        /// Both flush each commit, or neither does.
        public var likeForLike: Bool { postgres.flushesEachCommit == sqlite.flushesEachCommit }
        /// The project's goal: PostgreSQL at least half as fast as SQLite.
        public static let goal = 0.5
        public var met: Bool { ratio >= Self.goal }

        /// The pairs compared: the two like-for-like ones, then the stores' defaults.
        public static let pairs: [(postgres: Engine, sqlite: Engine)] = [
            (.postgresOff, .sqliteNormal), (.postgresOn, .sqliteFull), (.postgresOn, .sqliteNormal),
        ]
    }

    public struct Report: Sendable, Codable {
        public var series: [Series]
        public var comparisons: [Comparison]
        public var appendsPerSeries: Int
        public var rounds: Int
        /// Where each engine's series ran, by `Engine` raw value.
        public var engines: [String: String]
        /// Records in each chain at the end, each chain verified intact, by the engines that
        /// appended to it ("postgres-on+postgres-off" when they shared a database).
        public var records: [String: Int]
        public var machine: String
    }

    /// The concurrent writer count (the other series has one).
    public var writers: Int
    /// Appends per series and round, shared out among the writers.
    public var appends: Int
    public var rounds: Int
    /// An empty PostgreSQL database to use instead of starting one.
    public var postgresURL: String?
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
        func folder(_ name: String) -> DataDirectory {
            DataDirectory(environment: ["DOER_HOME": scratch.appendingPathComponent(name).path])
        }
        var descriptions: [String: String] = [:]
        let sqliteNormal = try Stores.open(StoreSettings(), directories: folder("normal"), auditKey: nil).audit
        let sqliteFull = try AuditLog(path: folder("full").sessionDatabase, flushEachCommit: true)
        descriptions[Engine.sqliteNormal.rawValue] = "\(Engine.sqliteNormal.setting), a fresh data folder"
        descriptions[Engine.sqliteFull.rawValue] = "\(Engine.sqliteFull.setting), a fresh data folder"

        var server: TemporaryPostgresServer?
        defer { server?.stop() }
        var postgresStores: [PostgresStore] = []
        defer { postgresStores.forEach { $0.close() } }
        let urls: (on: String, off: String)
        do {
            if let postgresURL {
                let address = try PostgresAddress(url: postgresURL)
                urls = (postgresURL, postgresURL)
                for engine in [Engine.postgresOn, .postgresOff] {
                    descriptions[engine.rawValue] = "\(engine.setting), the database at \(address) (both PostgreSQL series append to its one chain)"
                }
            } else {
                progress("starting PostgreSQL 15 on a unix socket (fsync on)")
                let started = try TemporaryPostgresServer(durable: true)
                server = started
                urls = (try started.makeDatabase(), try started.makeDatabase())
                for engine in [Engine.postgresOn, .postgresOff] {
                    descriptions[engine.rawValue] = "\(engine.setting), PostgreSQL 15 started here on a unix socket with fsync on, a database of its own"
                }
            }
            for (url, synchronous) in [(urls.on, true), (urls.off, false)] {
                postgresStores.append(try PostgresStore(address: PostgresAddress(url: url), connections: max(8, writers),
                                                        synchronousCommit: synchronous))
            }
        } catch let error as DoerError {
            throw error
        } catch {
            throw .configuration("cannot start PostgreSQL for the benchmark: \(error)")
        }
        let logs: [(Engine, AuditLog)] = [
            (.sqliteNormal, sqliteNormal), (.sqliteFull, sqliteFull),
            (.postgresOn, AuditLog(storage: postgresStores[0].audit)), (.postgresOff, AuditLog(storage: postgresStores[1].audit)),
        ]
        // What a connection reports, not what was asked for: a series is labelled by the setting it ran with.
        for (store, expected) in zip(postgresStores, ["on", "off"]) {
            let actual = try store.setting("synchronous_commit")
            guard actual == expected else {
                throw .configuration("a PostgreSQL connection opened with synchronous_commit=\(expected) reports \(actual)")
            }
        }
        for (engine, log) in logs where engine == .postgresOn || engine == .postgresOff {
            guard try log.records(limit: 1).isEmpty else {
                throw .configuration("\(descriptions[engine.rawValue] ?? "the database") already holds audit records; "
                    + "the benchmark appends thousands of notes, so give it an empty database")
            }
        }

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
                // Alternate the order, so no engine always runs on a warmer (or busier) machine.
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
        let perEngine = warmUps + rounds * counts.count * appends
        let chains: [(name: String, log: AuditLog, engines: Int)] = postgresURL == nil
            ? logs.map { ($0.0.rawValue, $0.1, 1) }
            : [(Engine.sqliteNormal.rawValue, sqliteNormal, 1), (Engine.sqliteFull.rawValue, sqliteFull, 1),
               ("\(Engine.postgresOn.rawValue)+\(Engine.postgresOff.rawValue)", logs[2].1, 2)]
        var records: [String: Int] = [:]
        for chain in chains {
            let verification = try chain.log.verify()
            guard verification.intact, verification.records == perEngine * chain.engines else {
                throw .configuration("after the benchmark the \(chain.name) chain holds \(verification.records) records, expected \(perEngine * chain.engines)"
                    + (verification.firstBreak.map { ", broken at \($0)" } ?? ""))
            }
            records[chain.name] = verification.records
        }
        let comparisons = counts.flatMap { count in
            Comparison.pairs.map { pair in
                let rate = { (engine: Engine) in series.first { $0.engine == engine && $0.writers == count }!.appendsPerSecond }
                return Comparison(writers: count, postgres: pair.postgres, sqlite: pair.sqlite, ratio: rate(pair.postgres) / rate(pair.sqlite))
            }
        }
        return Report(series: series, comparisons: comparisons, appendsPerSeries: appends, rounds: rounds,
                      engines: descriptions, records: records, machine: Machine.description)
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
