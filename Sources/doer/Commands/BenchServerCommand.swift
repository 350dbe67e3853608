import ArgumentParser
import DoerBench
import Foundation

extension BenchCommand {
    /// `doer bench server`: the load is `ServerBenchmark`'s; this parses the counts and prints.
    struct Server: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "server",
            abstract: "Load on `doer serve` (loopback): concurrent SSE clients and executions; latency, errors, memory."
        )

        @Option(help: "Concurrent SSE clients.") var sseClients = 200
        @Option(help: "Concurrent executions.") var executions = 50
        @Option(help: "The server's --max-concurrent-executions.") var executionSlots = 8
        @Option(help: "Rounds of the SSE load (each client reads the whole stream once per round).") var rounds = 3

        func validate() throws {
            guard sseClients > 0, executions > 0, executionSlots > 0, rounds > 0 else { throw ValidationError("counts must be positive") }
        }

        func run() async throws {
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
            if report.failed { throw ExitCode(1) }
        }
    }
}
