import ArgumentParser
import DoerBench
import DoerSandbox
import Foundation

extension BenchCommand {
    struct Sandbox: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sandbox",
            abstract: "Start-to-exit latency bare, in raw bubblewrap, in Doer's bubblewrap cold, from the warm pool, in a reused sandbox and in gVisor; throughput; ratios to raw bubblewrap."
        )

        @Option(help: "Runs per series.") var iterations = 200
        @Option(help: "Runs for gVisor (slow to start).") var gvisorIterations = 10
        @Option(help: "Runs for the throughput figure.") var throughputRuns = 400
        @Option(help: "Concurrent workers for the throughput figure.") var workers = 2
        @Flag(help: "Print the figures as one JSON object (milliseconds).") var json = false

        func validate() throws {
            guard iterations > 0, gvisorIterations > 0, throughputRuns > 0, workers > 0 else {
                throw ValidationError("counts must be positive")
            }
        }

        func run() async throws {
            let options = try SandboxOptions.parse([])
            do {
                let configuration = try options.resolve().1
                let benchmark = SandboxBenchmark(configuration: configuration, iterations: iterations,
                                                 gvisorIterations: gvisorIterations, throughputRuns: throughputRuns,
                                                 workers: workers)
                let report = try await benchmark.run { step in
                    if !json { BenchSupport.progress(step) }
                }
                json ? printJSON(report) : printTable(report)
            } catch {
                fail(error)
            }
        }

        private func printTable(_ report: SandboxBenchmark.Report) {
            func fmt(_ v: Double) -> String { v.isNaN ? "-" : String(format: "%.2f", v) }
            print("series                    p50 ms    p99 ms   over bare p50")
            for s in report.series {
                let bareName = s.name.hasSuffix("_python") ? "bare_python" : "bare_true"
                let overhead = report.series(bareName).map { s.p50 - $0.p50 } ?? .nan
                print(s.name.padding(toLength: 24, withPad: " ", startingAt: 0),
                      fmt(s.p50).leftPadded(8), fmt(s.p99).leftPadded(9), fmt(overhead).leftPadded(14))
            }
            print(String(format: "throughput: %.0f trivial sandboxed runs/s with %d workers (sandboxes reused, the default); %.0f with a new sandbox for every run",
                         report.runsPerSecond, report.workers, report.coldRunsPerSecond))
            if let raw = report.rawRunsPerSecond {
                print(String(format: "raw bubblewrap throughput: %.0f runs/s with %d workers", raw, report.workers))
            }
            if let ratio = report.coldStartRatio {
                print(String(format: "cold start vs raw bubblewrap (p50): %.2f× (goal: 1.25× or less)", ratio))
            }
            if let ratio = report.throughputRatio {
                print(String(format: "throughput vs raw bubblewrap: %.2f× (goal: 1.5× or more)", ratio))
            }
            report.notes.forEach { print("note: \($0)") }
        }

        private func printJSON(_ report: SandboxBenchmark.Report) {
            func value(_ name: String, _ keyPath: KeyPath<SandboxBenchmark.Series, Double>) -> Any {
                guard let v = report.series(name)?[keyPath: keyPath], !v.isNaN else { return NSNull() }
                return (v * 1000).rounded() / 1000
            }
            var object: [String: Any] = [
                "bare_p50": value("bare_true", \.p50), "bare_p99": value("bare_true", \.p99),
                "bwrap_cold_p50": value("bwrap_cold_true", \.p50), "bwrap_cold_p99": value("bwrap_cold_true", \.p99),
                "warm_pool_p50": value("warm_pool_true", \.p50), "warm_pool_p99": value("warm_pool_true", \.p99),
                "gvisor_p50": value("gvisor_true", \.p50),
                "raw_bwrap_p50": value("raw_bwrap_true", \.p50), "raw_bwrap_p99": value("raw_bwrap_true", \.p99),
                "runs_per_second": (report.runsPerSecond * 10).rounded() / 10,
                "cold_runs_per_second": (report.coldRunsPerSecond * 10).rounded() / 10,
                "reused_p50": value("reused_true", \.p50), "reused_p99": value("reused_true", \.p99),
                "raw_bwrap_runs_per_second": report.rawRunsPerSecond.map { ($0 * 10).rounded() / 10 } ?? NSNull(),
                "cold_start_vs_raw_bwrap": report.coldStartRatio.map { ($0 * 1000).rounded() / 1000 } ?? NSNull(),
                "throughput_vs_raw_bwrap": report.throughputRatio.map { ($0 * 1000).rounded() / 1000 } ?? NSNull(),
            ]
            for s in report.series where s.name.hasSuffix("_python") {
                object[s.name.replacingOccurrences(of: "_python", with: "") + "_python_p50"] = value(s.name, \.p50)
                object[s.name.replacingOccurrences(of: "_python", with: "") + "_python_p99"] = value(s.name, \.p99)
            }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        }
    }
}
