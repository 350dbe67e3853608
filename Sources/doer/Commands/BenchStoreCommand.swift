import ArgumentParser
import DoerBench
import DoerCore
import Foundation

extension BenchCommand {
    /// `doer bench store`: the measuring is `StoreBenchmark`'s; this parses the counts and prints.
    struct Store: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "store",
            abstract: "Audit-trail appends per second on SQLite and on PostgreSQL, side by side at both durabilities, with 1 and N concurrent writers (goal: PostgreSQL at least half of SQLite).",
            discussion: """
                Four series, compared like for like: SQLite with synchronous=NORMAL (the store's setting: commits are not flushed one by one) beside PostgreSQL with synchronous_commit=off (the same trade, [store] synchronous_commit = "off"), and SQLite with synchronous=FULL beside PostgreSQL with synchronous_commit=on (its default and the store's: each commit waits for the disk). Every store is fresh: SQLite in temporary data folders, and a PostgreSQL 15 started on a unix socket in a temporary folder with fsync on, a database for each setting (or the one empty database given by --url, which both PostgreSQL series then append to). Writers are threads of this one process; rounds alternate the engines and the figures are the median round. Each chain is verified at the end and must hold exactly the records appended. Your own store is not touched.
                """
        )

        @Option(help: "Concurrent writers in the second series.") var writers = 8
        @Option(help: "Appends per series and round, shared out among the writers.") var appends = 1000
        @Option(help: "Rounds; each engine and writer count runs once per round.") var rounds = 3
        @Option(help: "An empty PostgreSQL database (postgres://…) to use instead of starting a server.") var url: String?
        @Flag(help: "Print the figures as JSON.") var json = false

        func validate() throws {
            guard writers > 0, rounds > 0 else { throw ValidationError("--writers and --rounds must be positive") }
            guard appends >= writers else { throw ValidationError("--appends must be at least --writers (\(writers))") }
        }

        func run() async throws {
            let report: StoreBenchmark.Report
            do {
                report = try StoreBenchmark(writers: writers, appends: appends, rounds: rounds, postgresURL: url)
                    .run { step in if !json { BenchSupport.progress(step) } }
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
            for engine in StoreBenchmark.Engine.allCases {
                print("  \(engine.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)) \(report.engines[engine.rawValue] ?? "")")
            }
            print("engine         writers   appends/s    p50 ms    p95 ms    p99 ms")
            for series in report.series {
                print(series.engine.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0) + "\(series.writers)".leftPadded(8)
                      + String(format: "%.0f", series.appendsPerSecond).leftPadded(12)
                      + [0.5, 0.95, 0.99].map { String(format: "%.2f", series.latency($0)).leftPadded(10) }.joined())
            }
            for comparison in report.comparisons {
                let kind = comparison.likeForLike
                    ? (comparison.postgres.flushesEachCommit ? "like for like, every commit flushed" : "like for like, commits not flushed")
                    : "the stores' defaults, not like for like"
                print(String(format: "%@ / %@, %d writer%@: %.2f× (%@; goal %.1f× or more: %@)",
                             comparison.postgres.rawValue, comparison.sqlite.rawValue, comparison.writers,
                             comparison.writers == 1 ? "" : "s", comparison.ratio, kind, StoreBenchmark.Comparison.goal,
                             comparison.met ? "met" : "not met"))
            }
            print("chains verified: " + report.records.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) records" }.joined(separator: ", "))
            print("machine: \(report.machine)")
        }
    }
}
