import ArgumentParser
import DoerAgent
import DoerBench
import DoerConfig
import DoerCore
import DoerModels
import DoerSandbox
import Foundation

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Doer's speed on this machine.",
        subcommands: [CLI.self, Sandbox.self, Model.self, Agent.self, HumanEval.self, Repo.self, Languages.self, Server.self,
                      Store.self]
    )
}

extension BenchCommand {
    struct Model: AsyncParsableCommand {
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
                    if !json { BenchSupport.progress(step) }
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
}

extension BenchCommand {
    struct Agent: AsyncParsableCommand {
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
                        if !json { BenchSupport.progress(step) }
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
}
