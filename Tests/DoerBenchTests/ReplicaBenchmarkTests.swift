@testable import DoerBench
import DoerCore
import Foundation
import Testing

/// The replicas series of `doer bench server`: its wiring and a tiny real run (PostgreSQL 15
/// and real `doer serve` replicas). Nothing here is timed against a threshold.
@Suite("server benchmark: replicas series", .serialized)
struct ReplicaBenchmarkTests {
    @Test("a tiny run gives a row for 1 and for 2 replicas, each client getting every stored event of its session once, in order, with zero errors")
    func tinyRun() async throws {
        // More clients than `doer serve` lets one address hold by default (32): they all come from 127.0.0.1.
        let benchmark = ReplicaBenchmark(replicaCounts: [1, 2], clients: 36, sessions: 2, runsPerReplica: 2, rounds: 1)
        let outcome = try await benchmark.run(doer: try Self.doerExecutable())
        guard case .measured(let report) = outcome else {
            Issue.record("the series was skipped: \(outcome)")
            return
        }
        #expect(report.rows.map(\.replicas) == [1, 2])
        #expect(report.rows.map(\.runSlots) == [2, 4])
        #expect(!report.failed)
        for row in report.rows {
            #expect(row.clientErrors == 0, "replicas \(row.replicas): \(row.clientFailures)")
            #expect(row.runErrors == 0, "replicas \(row.replicas)")
            #expect(row.expected > 0)
            #expect(row.delivered == row.expected, "every client got every stored event of its session")
            #expect(row.deliveryMs.count == row.delivered, "one delivery latency per event received")
            #expect(row.firstEventMs.count == 36 && row.doneMs.count == 36, "one per client")
            #expect(row.roundEventsPerSecond.count == 1 && row.wallMs.count == 1)
            #expect(row.eventsPerSecond > 0 && row.eventsPerSecond.isFinite)
            #expect(row.runsByReplica.values.reduce(0, +) == 2, "each session's run ran once: \(row.runsByReplica)")
            #expect(Set(row.runsByReplica.keys).isSubset(of: (1...row.replicas).map { "replica-\($0)" }), "\(row.runsByReplica)")
            #expect(zip(row.firstEventMs, row.doneMs).allSatisfy { $0 <= $1 })
        }
        #expect(report.cores == ProcessInfo.processInfo.activeProcessorCount)
    }

    @Test("without PostgreSQL's programs the series is skipped with the reason, before anything starts")
    func skippedWithoutPostgres() async throws {
        var benchmark = ReplicaBenchmark(replicaCounts: [1, 2], clients: 2, sessions: 1)
        benchmark.postgresBinaries = URL(fileURLWithPath: "/nonexistent/postgresql/bin")
        // No doer here: the series must not get as far as starting one.
        let outcome = try await benchmark.run(doer: URL(fileURLWithPath: "/nonexistent/doer"))
        guard case .skipped(let reason) = outcome else {
            Issue.record("expected a skip, got \(outcome)")
            return
        }
        #expect(reason.contains("PostgreSQL 15 is not installed"), "\(reason)")
        #expect(reason.contains("/nonexistent/postgresql/bin/initdb"), "\(reason)")
        #expect(ReplicaBenchmark().missingPostgres() == nil, "this machine has PostgreSQL: the tiny run above measures for real")
    }

    @Test("counts that cannot make a load are refused", arguments: [
        ReplicaBenchmark(replicaCounts: []), ReplicaBenchmark(replicaCounts: [0, 2]), ReplicaBenchmark(clients: 0),
        ReplicaBenchmark(sessions: 0), ReplicaBenchmark(runsPerReplica: 0), ReplicaBenchmark(rounds: 0),
    ])
    func refusesEmptyLoads(benchmark: ReplicaBenchmark) async throws {
        await #expect(throws: DoerError.self) { try await benchmark.run(doer: URL(fileURLWithPath: "/nonexistent/doer")) }
    }

    /// The `doer` built beside this test bundle.
    static func doerExecutable() throws -> URL {
        let exe = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        let found = [exe.deletingLastPathComponent(), exe.deletingLastPathComponent().deletingLastPathComponent()]
            .map { $0.appendingPathComponent("doer") }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
        return try #require(found, "build doer first: swift build --product doer")
    }
}
