import ArgumentParser
import DoerBench
import Foundation

extension BenchCommand {
    /// `doer bench server`: the load is `ServerBenchmark`'s (and `ReplicaBenchmark`'s with
    /// `--replicas`); this parses the counts and prints.
    struct Server: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "server",
            abstract: "Load on `doer serve` (loopback): concurrent SSE clients and executions; latency, errors, memory.",
            discussion: """
                With --replicas 1,2 a replicas series follows: the same load (--sse-clients following --replica-sessions sessions live, a message posted to every session at once, clients and posts spread over the replicas) against one `doer serve` on PostgreSQL and against two sharing its database, side by side: events delivered per second, the delivery latency of each event, errors, the runs each replica claimed. It starts its own PostgreSQL 15 on a unix socket; without PostgreSQL it is skipped, saying so.
                """
        )

        @Option(help: "Concurrent SSE clients.") var sseClients = 200
        @Option(help: "Concurrent executions.") var executions = 50
        @Option(help: "The server's --max-concurrent-executions.") var executionSlots = 8
        @Option(help: "Rounds of the SSE load (each client reads the whole stream once per round).") var rounds = 3
        @Option(help: "Replica counts to compare on PostgreSQL, e.g. 1,2 (the replicas series; off when not given).")
        var replicas: String?
        @Flag(help: "Run only the replicas series, not the single-server series before it.") var replicasOnly = false
        @Option(help: "Replicas series: sessions whose runs start at once.") var replicaSessions = 20
        @Option(help: "Replicas series: runs each replica executes at once (DOER_REPLICA_MAX_RUNS).") var replicaRuns = 4
        @Option(help: "Replicas series: rounds, each measuring every replica count once, in alternating order.") var replicaRounds = 1

        /// The replica counts `--replicas` names, in order; empty when the series is off.
        var replicaCounts: [Int] {
            (replicas ?? "").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }

        func validate() throws {
            guard sseClients > 0, executions > 0, executionSlots > 0, rounds > 0 else { throw ValidationError("counts must be positive") }
            if let replicas {
                let parts = replicas.split(separator: ",", omittingEmptySubsequences: false)
                guard !parts.isEmpty, parts.allSatisfy({ Int($0.trimmingCharacters(in: .whitespaces)).map { (1...8).contains($0) } ?? false }) else {
                    throw ValidationError("--replicas takes replica counts from 1 to 8, separated by commas (e.g. 1,2), not '\(replicas)'")
                }
                guard Set(replicaCounts).count == replicaCounts.count else { throw ValidationError("--replicas names a count twice: '\(replicas)'") }
            }
            guard replicaSessions > 0, replicaRuns > 0, replicaRounds > 0 else {
                throw ValidationError("--replica-sessions, --replica-runs and --replica-rounds must be positive")
            }
            if replicasOnly && replicas == nil { throw ValidationError("--replicas-only needs --replicas (e.g. --replicas 1,2)") }
        }

        /// The replicas series as configured.
        var replicaBenchmark: ReplicaBenchmark {
            ReplicaBenchmark(replicaCounts: replicaCounts, clients: sseClients, sessions: replicaSessions, runsPerReplica: replicaRuns,
                             rounds: replicaRounds)
        }

        func run() async throws {
            var failed = false
            if !replicasOnly {
                let report = try await ServerBenchmark(sseClients: sseClients, executions: executions, executionSlots: executionSlots,
                                                       rounds: rounds).run(doer: BenchSupport.doerExecutable)
                print("doer bench server: \(sseClients) SSE clients × \(rounds) reads of a \(report.events)-event stream, and \(executions) executions (python, \(executionSlots) at a time), at once, on loopback")
                print("                                   p50       p95       p99       max   (ms)")
                for series in report.series {
                    let cells = [0.5, 0.95, 0.99, 1].map { q in series.percentile(q).map { String(format: "%9.1f", $0) } ?? "-".leftPadded(9) }
                    print(series.name.padding(toLength: 32, withPad: " ", startingAt: 0) + cells.joined(separator: " "))
                }
                print(String(format: "wall %.0f ms; errors: SSE %d of %d, executions %d of %d, live SSE %d of %d", report.wallMs,
                             report.sseErrors, sseClients, report.executionErrors, executions, report.liveErrors, sseClients))
                print(String(format: "server memory: RSS %.1f MiB at start, %.1f MiB after, peak %.1f MiB", Double(report.rssStartBytes) / 1_048_576,
                             Double(report.rssEndBytes) / 1_048_576, Double(report.rssPeakBytes) / 1_048_576))
                failed = report.failed
            }
            if !replicaCounts.isEmpty {
                if !replicasOnly { print("") }
                let outcome = try await replicaBenchmark.run(doer: BenchSupport.doerExecutable) { BenchSupport.progress($0) }
                switch outcome {
                case .skipped(let reason):
                    print("replicas series skipped: \(reason)")
                case .measured(let report):
                    printReplicas(report)
                    failed = failed || report.failed
                }
            }
            if failed { throw ExitCode(1) }
        }

        private func printReplicas(_ report: ReplicaBenchmark.Report) {
            print("doer bench server, replicas: \(sseClients) SSE clients following \(replicaSessions) sessions live; a message posted to every session at once starts its run (scripted model, 2 iterations with a sandboxed pytest); clients and posts spread over the replicas, \(replicaRuns) runs at a time per replica; \(replicaRounds) round\(replicaRounds == 1 ? "" : "s")")
            print("  store: \(report.postgres)")
            print("replicas  events  events/s  delivery p50/p95 ms  first event p50/p95 ms  done p50/p95 ms  errors  CPU s  runs by replica")
            for row in report.rows {
                func pair(_ samples: [Double]) -> String {
                    let cells = [0.5, 0.95].map { q in Statistics.percentile(samples, q).map { String(format: "%.1f", $0) } ?? "-" }
                    return cells.joined(separator: " / ")
                }
                let runs = row.runsByReplica.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                print("\(row.replicas)".leftPadded(8) + "\(row.delivered)/\(row.expected)".leftPadded(8 + 2)
                      + String(format: "%.0f", row.eventsPerSecond).leftPadded(10) + pair(row.deliveryMs).leftPadded(21)
                      + pair(row.firstEventMs).leftPadded(24) + pair(row.doneMs).leftPadded(17)
                      + "\(row.errors)".leftPadded(8) + String(format: "%.1f", row.cpuSeconds).leftPadded(7) + "  " + runs)
            }
            if let one = report.rows.first(where: { $0.replicas == 1 }) {
                for row in report.rows where row.replicas > 1 {
                    func ratio(_ a: [Double], _ b: [Double]) -> String {
                        guard let x = Statistics.median(a), let y = Statistics.median(b), y > 0 else { return "-" }
                        return String(format: "%.2f×", x / y)
                    }
                    print(String(format: "%d replicas against 1: events/s %.2f×, delivery p50 %@, done p50 %@", row.replicas,
                                 row.eventsPerSecond / one.eventsPerSecond, ratio(row.deliveryMs, one.deliveryMs), ratio(row.doneMs, one.doneMs)))
                }
            }
            if let most = replicaCounts.max(), most > 1, report.cores <= 2 * most {
                print("note: \(report.cores) cores here, shared by the replicas, PostgreSQL, the sandboxed runs and this benchmark's clients. A replica adds run slots (\(replicaRuns) each) and connections, not CPU: where more replicas finish sooner here, it is because more runs were in flight while others waited on the sandbox or the database, which more run slots on one replica would also give; where they are slower, it is the second process's own cost on the same cores. On PostgreSQL every follower reads each new event from the table, whichever replica it is on, so the database does the same work for any replica count.")
            }
            print("machine: \(report.machine)")
            let errors = report.rows.map { "\($0.replicas): clients \($0.clientErrors) of \(sseClients * replicaRounds), runs \($0.runErrors) of \(replicaSessions * replicaRounds)" }
            print("errors by replica count — " + errors.joined(separator: "; "))
            let reconnected = report.rows.map { "\($0.replicas): \($0.reconnections)" }
            print("reconnections with Last-Event-ID by replica count — " + reconnected.joined(separator: "; "))
            for row in report.rows {
                for failure in row.clientFailures { print("client failed (\(row.replicas) replica\(row.replicas == 1 ? "" : "s")): \(failure)") }
            }
        }
    }
}
