@testable import DoerBench
import DoerCore
import DoerStore
import Foundation
import Testing

@Suite("store benchmark")
struct StoreBenchmarkTests {
    @Test("a small run measures both engines at both durabilities for 1 and N writers, and every append is in its verified chain")
    func smallRun() throws {
        var benchmark = StoreBenchmark(writers: 3, appends: 30, rounds: 2)
        benchmark.warmUps = 5
        let report = try benchmark.run()
        #expect(report.series.map { "\($0.engine.rawValue)/\($0.writers)" } == [
            "sqlite-normal/1", "sqlite-full/1", "postgres-on/1", "postgres-off/1",
            "sqlite-normal/3", "sqlite-full/3", "postgres-on/3", "postgres-off/3",
        ])
        for series in report.series {
            #expect(series.roundsPerSecond.count == 2)
            #expect(series.latenciesMs.count == 60, "one latency per append of \(series.engine) with \(series.writers)")
            #expect(series.appendsPerSecond > 0 && series.appendsPerSecond.isFinite)
        }
        #expect(report.records == ["sqlite-normal": 125, "sqlite-full": 125, "postgres-on": 125, "postgres-off": 125], "5 + 2 rounds × 2 writer counts × 30")
        #expect(report.comparisons.map { "\($0.postgres.rawValue)/\($0.sqlite.rawValue)/\($0.writers)" } == [
            "postgres-off/sqlite-normal/1", "postgres-on/sqlite-full/1", "postgres-on/sqlite-normal/1",
            "postgres-off/sqlite-normal/3", "postgres-on/sqlite-full/3", "postgres-on/sqlite-normal/3",
        ])
        #expect(report.comparisons.map(\.likeForLike) == [true, true, false, true, true, false])
        for comparison in report.comparisons {
            let rate = { (engine: StoreBenchmark.Engine) in
                report.series.first { $0.engine == engine && $0.writers == comparison.writers }!.appendsPerSecond
            }
            #expect(abs(comparison.ratio - rate(comparison.postgres) / rate(comparison.sqlite)) < 1e-9)
            #expect(comparison.met == (comparison.ratio >= 0.5))
        }
        #expect(report.engines["postgres-on"]?.contains("fsync on") == true)
        #expect(report.engines["postgres-off"]?.contains("synchronous_commit=off") == true)
        #expect(report.engines["sqlite-full"]?.contains("synchronous=FULL") == true)
    }

    @Test("given one database, both PostgreSQL series append to its one chain, which verifies with every record")
    func sharedDatabase() throws {
        let server = try TemporaryPostgresServer()
        defer { server.stop() }
        var benchmark = StoreBenchmark(writers: 1, appends: 10, rounds: 1, postgresURL: try server.makeDatabase())
        benchmark.warmUps = 2
        let report = try benchmark.run()
        #expect(report.series.map(\.engine) == StoreBenchmark.Engine.allCases)
        #expect(report.records == ["sqlite-normal": 12, "sqlite-full": 12, "postgres-on+postgres-off": 24])
    }

    @Test("a database that already holds audit records is refused, so a real trail never gets the benchmark's notes")
    func refusesAUsedDatabase() throws {
        let server = try TemporaryPostgresServer()
        defer { server.stop() }
        let url = try server.makeDatabase()
        try AuditLog(storage: try PostgresStore(url: url).audit).append(.note, actor: "ana", details: ["text": "real"])
        #expect {
            try StoreBenchmark(writers: 1, appends: 1, rounds: 1, postgresURL: url).run()
        } throws: { error in
            "\(error)".contains("already holds audit records")
        }
    }
}
