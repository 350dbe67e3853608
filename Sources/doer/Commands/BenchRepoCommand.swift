import ArgumentParser
import DoerAgent
import DoerBench
import DoerCore
import DoerProcess
import Foundation

extension BenchCommand {
    /// `doer bench repo`: `doer exec` on real projects' tasks, judged by their hidden tests.
    struct Repo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "repo",
            abstract: "doer exec on real open-source projects (a function left unimplemented, or a bug report) and on new modules in an empty workspace, judged by hidden tests.",
            discussion: """
                The task set is built by benchmarks/repo/build_tasks.py from pinned PyPI sdists (checked by SHA-256) into \
                --tasks (--build does it when it is missing). Each task runs `doer exec --approval never` in a scratch copy; \
                then the project's tests for the function, kept out of the workspace, are put back and run with the rest of \
                the suite in the sandbox. Create tasks (benchmarks/repo/create/) start from an empty workspace; their hidden \
                tests check every rule the request states. A false success is an exit 0 whose hidden tests fail. The model is the local one \
                of --size; the user's config.toml is not read, so runs compare like with like.
                """
        )

        @Option(help: "The task set's folder (default: Doer's cache, bench-repo/).") var tasks: String?
        @Flag(help: "Build the task set first when it is missing (downloads the sdists from PyPI).") var build = false
        @Option(help: "The local model: 0.5b or 1.5b.") var size = "0.5b"
        @Option(help: "Candidates per task.") var candidates = 1
        @Option(help: "Model turns per candidate.") var maxIterations = 6
        @Option(help: "Only tasks whose id contains one of these, comma-separated.") var only: String?
        @Option(help: "Only the first K tasks.") var limit: Int?
        @Option(help: "Seconds before a task's run is stopped.") var timeout = 1200
        @Option(help: "Folder for the results (JSON and Markdown).") var out = "benchmarks/results"
        @Flag(help: "Keep the verdicts already in --out for this model and candidate count and run only the other tasks.") var resume = false

        func validate() throws {
            guard ["0.5b", "1.5b"].contains(size) else { throw ValidationError("--size must be 0.5b or 1.5b") }
            guard (1...16).contains(candidates) else { throw ValidationError("--candidates must be 1 to 16") }
            guard (1...50).contains(maxIterations) else { throw ValidationError("--max-iterations must be 1 to 50") }
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
            guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        }

        func run() async throws {
            do {
                let folder = URL(fileURLWithPath: tasks ?? DataDirectory().cache.appendingPathComponent("bench-repo").path, isDirectory: true)
                if build && !FileManager.default.fileExists(atPath: folder.appendingPathComponent("index.json").path) {
                    try await buildTaskSet(into: folder)
                }
                let set = try RepositoryTaskSet.load(from: folder)
                let chosen = set.selecting(only?.split(separator: ",").map(String.init) ?? [], limit: limit)
                guard !chosen.isEmpty else { throw DoerError.invalidArgument("no task matches --only \(only ?? "")") }

                let configHome = FileManager.default.temporaryDirectory.appendingPathComponent("doer-bench-repo-config-\(UUID().uuidString)")
                defer { try? FileManager.default.removeItem(at: configHome) }
                try FileManager.default.createDirectory(at: configHome.appendingPathComponent("doer"), withIntermediateDirectories: true)
                try Data("[model]\nprovider = \"local\"\nlocal_size = \"\(size)\"\n".utf8)
                    .write(to: configHome.appendingPathComponent("doer/config.toml"))

                let runtime = try AgentRuntime(flags: AgentFlags(candidates: 1, maxIterations: 1, approval: .never, provider: nil, profile: nil, tokenBudget: nil))
                var benchmark = RepositoryBenchmark(doer: BenchSupport.doerExecutable, candidates: candidates, maxIterations: maxIterations,
                                                    environment: ["XDG_CONFIG_HOME": configHome.path], sandbox: runtime.sandbox,
                                                    timeoutSeconds: timeout)
                let results = URL(fileURLWithPath: out, isDirectory: true)
                try FileManager.default.createDirectory(at: results, withIntermediateDirectories: true)
                let model = "qwen2.5-coder-\(size)-instruct"
                let name = "repo-\(model)-c\(candidates)"
                benchmark.logs = results.appendingPathComponent("logs-" + name, isDirectory: true)
                let json = results.appendingPathComponent(name + ".json")
                var verdicts = resume ? try RepositoryReport.earlierVerdicts(in: json, model: model, candidates: candidates, tasks: chosen.map(\.id)) : []
                if !verdicts.isEmpty { print("resuming: \(verdicts.count) task(s) already judged in \(json.path)") }
                let command = "doer bench repo --size \(size) --candidates \(candidates) --max-iterations \(maxIterations)"
                    + (only.map { " --only \($0)" } ?? "") + (limit.map { " --limit \($0)" } ?? "") + " --timeout \(timeout)"
                // Written after every task, so a long run stopped part-way keeps what it judged (--resume goes on).
                func save() throws -> RepositoryReport {
                    let report = RepositoryReport(model: model, candidates: candidates, verdicts: verdicts)
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                    try encoder.encode(report).write(to: json)
                    try Data("# \(name)\n\n`\(command)` with \(BuildInfo.versionLine) on \(Machine.description)\n\n\(report.markdown)\n".utf8)
                        .write(to: results.appendingPathComponent(name + ".md"))
                    return report
                }
                let done = Set(verdicts.map(\.task))
                for (number, task) in chosen.enumerated() where !done.contains(task.id) {
                    print("[\(number + 1)/\(chosen.count)] \(task.id) (\(task.kind.rawValue)): \(task.request)")
                    fflush(nil)
                    let verdict = try await benchmark.run(task)
                    verdicts.append(verdict)
                    print("    \(verdict.result.rawValue): exit \(verdict.exitCode), outcome \(verdict.outcome ?? "—"), hidden tests "
                          + "\(verdict.hiddenPassed ? "pass" : "fail"), suite \(verdict.suitePassed ? "pass" : "fail"), "
                          + String(format: "%.0f s", verdict.seconds))
                    _ = try save()
                    // A run of many minutes is read while it goes, often through a file (nil: every stream).
                    fflush(nil)
                }
                let report = try save()
                print(report.summary)
                print("results: \(results.appendingPathComponent(name + ".md").path)")
                if report.count(RepositoryVerdict.Result.falseSuccess) > 0 { throw ExitCode(1) }
            } catch let error as DoerError {
                fail(error)
            } catch let error as RepositoryBenchmarkError {
                fail(.invalidArgument(error.description))
            }
        }

        private func buildTaskSet(into folder: URL) async throws {
            let script = URL(fileURLWithPath: "benchmarks/repo/build_tasks.py")
            guard FileManager.default.fileExists(atPath: script.path) else {
                throw DoerError.invalidArgument("run from Doer's source folder: \(script.path) builds the task set")
            }
            // The builder's listing of what it left out goes to stderr, where a person reads it.
            let output = try await ProcessRunner(showOutput: true).run("python3", [script.path, folder.path])
            // A task the builder rejects is left out and listed; the rest are usable.
            guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("index.json").path) else {
                throw RepositoryBenchmarkError.buildFailed("\(script.path) ended with \(output.statusDescription)")
            }
        }
    }
}
