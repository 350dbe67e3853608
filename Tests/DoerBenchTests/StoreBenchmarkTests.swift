@testable import DoerBench
import DoerCore
import DoerStore
import Foundation
import Testing

@Suite("store benchmark")
struct StoreBenchmarkTests {
    @Test("a small run measures both engines for 1 and N writers, and every append is in its verified chain")
    func smallRun() throws {
        var benchmark = StoreBenchmark(writers: 3, appends: 30, rounds: 2)
        benchmark.warmUps = 5
        let report = try benchmark.run()
        #expect(report.series.map { "\($0.engine.rawValue)/\($0.writers)" } == ["sqlite/1", "postgres/1", "sqlite/3", "postgres/3"])
        for series in report.series {
            #expect(series.roundsPerSecond.count == 2)
            #expect(series.latenciesMs.count == 60, "one latency per append of \(series.engine) with \(series.writers)")
            #expect(series.appendsPerSecond > 0 && series.appendsPerSecond.isFinite)
        }
        #expect(report.sqliteRecords == 5 + 2 * 2 * 30)
        #expect(report.postgresRecords == report.sqliteRecords)
        #expect(report.comparisons.map(\.writers) == [1, 3])
        for comparison in report.comparisons {
            let rate = { (engine: StoreBenchmark.Engine) in
                report.series.first { $0.engine == engine && $0.writers == comparison.writers }!.appendsPerSecond
            }
            #expect(abs(comparison.ratio - rate(.postgres) / rate(.sqlite)) < 1e-9)
            #expect(comparison.met == (comparison.ratio >= 0.5))
        }
        #expect(report.postgres.contains("fsync on"))
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
