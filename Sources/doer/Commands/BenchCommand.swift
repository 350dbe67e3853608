import ArgumentParser
import DoerAgent
import DoerConfig
import DoerCore
import DoerModels
import DoerSandbox
import Foundation

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Doer's speed on this machine.",
        subcommands: [BenchSandbox.self, BenchModel.self, BenchAgent.self, BenchHumanEval.self, BenchLanguages.self, BenchServer.self]
    )
}

struct BenchSandbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Start-to-exit latency bare, in bubblewrap cold, from the warm pool and in gVisor; throughput."
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
                if !json { FileHandle.standardError.write(Data("… \(step)\n".utf8)) }
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
        print(String(format: "throughput: %.0f trivial sandboxed runs/s with %d workers (bubblewrap cold)",
                     report.runsPerSecond, report.workers))
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
            "runs_per_second": (report.runsPerSecond * 10).rounded() / 10,
        ]
        for s in report.series where s.name.hasSuffix("_python") {
            object[s.name.replacingOccurrences(of: "_python", with: "") + "_python_p50"] = value(s.name, \.p50)
            object[s.name.replacingOccurrences(of: "_python", with: "") + "_python_p99"] = value(s.name, \.p99)
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}

struct BenchModel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Time to first token, tokens/s for 1 and N concurrent streams, and the prompt-cache effect."
    )

    @Option(help: "Concurrent streams.") var concurrency = 4
    @Option(help: "Tokens generated per stream.") var maxTokens = 128
    @Option(help: "Model provider (default: the configured one, normally local).") var provider: ModelSettings.ProviderKind?
    @Flag(help: "Print the figures as JSON.") var json = false

    func run() async throws {
        let directories = DataDirectory()
        do {
            var environment = ProcessInfo.processInfo.environment
            if let provider { environment["DOER_MODEL_PROVIDER"] = provider.rawValue }
            let configuration = try DoerConfiguration.load(directories: directories, environment: environment)
            let model = try ModelProviderFactory.make(configuration.model, directories: directories)
            let report = try await ModelBenchmark(provider: model, concurrency: concurrency, maxTokens: maxTokens).run { step in
                if !json { FileHandle.standardError.write(Data("… \(step)\n".utf8)) }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                FileHandle.standardOutput.write(try encoder.encode(report) + Data("\n".utf8))
                return
            }
            print(String(format: "one stream:        first token %.0f ms, %.1f tokens/s (%d tokens)",
                         report.single.timeToFirstTokenMs, report.singleTokensPerSecond, report.single.completionTokens))
            print(String(format: "%d streams:         %.1f tokens/s together, median first token %.0f ms",
                         report.concurrentStreams, report.concurrentTokensPerSecond, report.concurrentTimeToFirstTokenMs))
            print(String(format: "prompt cache:      first token %.0f ms cold, %.0f ms with the prefix cached%@",
                         report.coldPrefixTimeToFirstTokenMs, report.cachedPrefixTimeToFirstTokenMs,
                         report.cachedPromptTokens.map { " (\($0) prompt tokens from the cache)" } ?? ""))
        } catch let error as DoerError {
            fail(error)
        } catch let error as ModelError {
            fail(.configuration(error.description))
        }
    }
}

struct BenchAgent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "The agent's own overhead per iteration (goal: 25 ms or less), and time to the first passing candidate for N = 1, 2, 4.",
        discussion: "The race uses the configured model (the bundled local one by default) on a fixed set of three small tasks; N = 1 is the baseline."
    )

    @Option(help: "Iterations for the overhead figure.") var iterations = 10
    @Option(help: "Candidate counts to race, comma-separated.") var candidates = "1,2,4"
    @Option(help: "Model turns per candidate in the race.") var maxIterations = 4
    @Option(help: "Model provider: local (default), openai, anthropic.") var provider: ModelSettings.ProviderKind?
    @Flag(help: "Only the overhead figure (no model needed).") var overheadOnly = false
    @Flag(help: "Print the figures as JSON.") var json = false

    var counts: [Int] { candidates.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        guard iterations > 0 else { throw ValidationError("--iterations must be positive") }
        guard !counts.isEmpty, counts.allSatisfy({ (1...16).contains($0) }), counts.count == candidates.split(separator: ",").count else {
            throw ValidationError("--candidates takes numbers from 1 to 16 separated by commas, got '\(candidates)'")
        }
    }

    func run() async throws {
        do {
            let runtime = try AgentRuntime(flags: AgentFlags(candidates: 1, maxIterations: maxIterations, approval: .onRequest,
                                                                      provider: provider, profile: nil, tokenBudget: nil))
            let overhead = try await AgentOverheadBenchmark(sandbox: runtime.sandbox, iterations: iterations).run()
            var race: CandidateRaceBenchmark.Report?
            if !overheadOnly {
                race = try await CandidateRaceBenchmark(provider: runtime.model, sandbox: runtime.sandbox, counts: counts,
                                                        maxIterations: maxIterations).run { step in
                    if !json { FileHandle.standardError.write(Data("… \(step)\n".utf8)) }
                }
            }
            if json {
                struct Combined: Encodable { var overhead: AgentOverheadBenchmark.Report; var race: CandidateRaceBenchmark.Report? }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                FileHandle.standardOutput.write(try encoder.encode(Combined(overhead: overhead, race: race)) + Data("\n".utf8))
                return
            }
            print(String(format: "overhead: %d iterations in %.0f ms, of which %.0f ms in the sandbox: agent overhead %.1f ms per iteration",
                         overhead.iterations, overhead.wallMs, overhead.sandboxMs, overhead.agentMsPerIteration))
            guard let race else { return }
            print("race (\(runtime.modelDescription), \(CandidateRaceBenchmark.tasks.count) tasks, up to \(maxIterations) turns per candidate):")
            print("  candidates  passed  median time to first pass  median wall  mean tokens")
            let baseline = race.series.first?.medianTimeToFirstPassMs
            for series in race.series {
                let first = series.medianTimeToFirstPassMs.map { String(format: "%.1f s", $0 / 1000) } ?? "—"
                let ratio = (series.medianTimeToFirstPassMs.flatMap { value in baseline.map { value / $0 } })
                    .map { String(format: " (%.2f× N=\(race.series[0].candidates))", $0) } ?? ""
                print("  " + "\(series.candidates)".leftPadded(10) + "  " + "\(series.passed)/\(series.tasks)".leftPadded(6) + "  "
                      + (first + ratio).leftPadded(25) + "  " + String(format: "%.1f s", series.medianWallMs / 1000).leftPadded(11)
                      + "  " + String(format: "%.0f", series.meanTokens).leftPadded(11))
            }
        } catch let error as DoerError {
            fail(error)
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
