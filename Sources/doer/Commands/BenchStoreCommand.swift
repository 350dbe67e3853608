import ArgumentParser
import DoerBench
import DoerCore
import Foundation

extension BenchCommand {
    /// `doer bench store`: the measuring is `StoreBenchmark`'s; this parses the counts and prints.
    struct Store: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "store",
            abstract: "Audit-trail appends per second on SQLite and on PostgreSQL, side by side, with 1 and N concurrent writers (goal: PostgreSQL at least half of SQLite).",
            discussion: """
                Both stores are fresh: SQLite in a temporary data folder (WAL, synchronous=NORMAL, as the store opens it), and a PostgreSQL 15 started on a unix socket in a temporary folder with fsync on (or the empty database given by --url). Writers are threads of this one process; rounds alternate the engines and the figures are the median round. Each chain is verified at the end and must hold exactly the records appended. Your own store is not touched.
                """
        )

        @Option(help: "Concurrent writers in the second series.") var writers = 8
        @Option(help: "Appends per series and round, shared out among the writers.") var appends = 1000
        @Option(help: "Rounds; each engine and writer count runs once per round.") var rounds = 3
        @Option(help: "An empty PostgreSQL database (postgres://…) to use instead of starting a server.") var url: String?
        @Flag(help: "Start PostgreSQL with synchronous_commit off: commits stop waiting for the disk, the durability SQLite's WAL mode has.")
        var noSynchronousCommit = false
        @Flag(help: "Print the figures as JSON.") var json = false

        func validate() throws {
            guard writers > 0, rounds > 0 else { throw ValidationError("--writers and --rounds must be positive") }
            if noSynchronousCommit && url != nil {
                throw ValidationError("--no-synchronous-commit sets up the server the benchmark starts; with --url, set synchronous_commit on your server")
            }
            guard appends >= writers else { throw ValidationError("--appends must be at least --writers (\(writers))") }
        }

        func run() async throws {
            let report: StoreBenchmark.Report
            do {
                var benchmark = StoreBenchmark(writers: writers, appends: appends, rounds: rounds, postgresURL: url)
                benchmark.postgresSynchronousCommit = !noSynchronousCommit
                report = try benchmark.run { step in if !json { BenchSupport.progress(step) } }
            } catch {
                fail(error)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                FileHandle.standardOutput.write(try encoder.encode(report) + Data("\n".utf8))
                return
            }
            print("doer bench store: \(report.appendsPerSeries) audit appends per series, median of \(report.rounds) rounds; writers are threads of one process")
            print("  sqlite:   \(report.sqlite)")
            print("  postgres: \(report.postgres)")
            print("engine     writers   appends/s    p50 ms    p95 ms    p99 ms")
            for series in report.series {
                print(series.engine.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0) + "\(series.writers)".leftPadded(8)
                      + String(format: "%.0f", series.appendsPerSecond).leftPadded(12)
                      + [0.5, 0.95, 0.99].map { String(format: "%.2f", series.latency($0)).leftPadded(10) }.joined())
            }
            for comparison in report.comparisons {
                print(String(format: "PostgreSQL / SQLite, %d writer%@: %.2f× (goal: %.1f× or more) — %@", comparison.writers,
                             comparison.writers == 1 ? "" : "s", comparison.ratio, StoreBenchmark.Comparison.goal,
                             comparison.met ? "met" : "not met"))
            }
            print("chains verified: sqlite \(report.sqliteRecords) records, postgres \(report.postgresRecords) records")
            print("machine: \(report.machine)")
        }
    }
}
