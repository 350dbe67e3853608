public import DoerCore
public import DoerSandbox
import DoerAgent
import DoerProcess
public import Foundation

/// Runs `doer exec` on each task the way a user would (`--approval never`, the request as
/// written), then judges the result by the hidden tests: the project's own tests for the
/// function, put back beside the change and run once, with the rest of the suite, in the
/// sandbox. Doer's exit code is what it claimed; the hidden tests are what it did.
public struct RepositoryBenchmark: Sendable {
    /// The `doer` executable under test.
    public var doer: URL
    public var candidates: Int
    public var maxIterations: Int
    /// Added to `doer exec`'s environment (e.g. a config home that picks the model).
    public var environment: [String: String]
    /// Where the hidden tests run.
    public var sandbox: any Sandbox
    /// A run of `doer exec` that takes longer than this is stopped and counted as failed.
    public var timeoutSeconds: Int
    /// Where each task's `doer exec --json` events (`TASK.jsonl`) and standard error
    /// (`TASK.stderr`) are kept, to read why a run failed or took its time; nil keeps none.
    public var logs: URL?

    public init(doer: URL, candidates: Int, maxIterations: Int, environment: [String: String], sandbox: any Sandbox, timeoutSeconds: Int = 1200,
                logs: URL? = nil) {
        self.doer = doer
        self.candidates = candidates
        self.maxIterations = maxIterations
        self.environment = environment
        self.sandbox = sandbox
        self.timeoutSeconds = timeoutSeconds
        self.logs = logs
    }

    public func run(_ task: RepositoryTask) async throws -> RepositoryVerdict {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("doer-bench-repo-\(UUID().uuidString)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let workspace = scratch.appendingPathComponent(task.project, isDirectory: true)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: task.workspace, to: workspace)

        // What already fails here before any change (a test the sandbox's network refuses)
        // is not the run's doing: the suite is judged against it.
        let baseline = try await pytest(task.suite, task: task, in: workspace)
        let started = ContinuousClock.now
        // `timeout` bounds a run that hangs; Doer's own limits bound everything else.
        let exec = try await ProcessRunner(environment: .inherited(setting: environment.merging(["PYTHONDONTWRITEBYTECODE": "1"]) { $1 }))
            .run("timeout", ["--kill-after=15", String(timeoutSeconds), doer.path, "exec", "--workspace", workspace.path,
                             "--approval", "never", "--candidates", String(candidates),
                             "--max-iterations", String(maxIterations), "--json", task.request])
        let elapsed = started.duration(to: .now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if let logs {
            try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
            try Data(exec.stdout.utf8).write(to: logs.appendingPathComponent(task.id + ".jsonl"))
            try Data(exec.stderr.utf8).write(to: logs.appendingPathComponent(task.id + ".stderr"))
        }

        try restoreHiddenTests(task, into: workspace)
        let hidden = try await pytest(task.hiddenTests, task: task, in: workspace)
        let suiteRun = try await pytest(task.suite, task: task, in: workspace)
        let suite = TestOutcome(succeeded: suiteRun.succeeded || Set(suiteRun.failures).isSubset(of: Set(baseline.failures)) && !suiteRun.failures.isEmpty,
                                tail: suiteRun.tail, failures: suiteRun.failures)
        let exitCode = exec.signal == nil ? exec.status : 128 + (exec.signal ?? 0)
        let detail = hidden.succeeded ? exec.tail(lines: 4) : hidden.tail
        return RepositoryVerdict(task: task.id, project: task.project, kind: task.kind,
                                 result: RepositoryVerdict.judge(exitCode: exitCode, hiddenPassed: hidden.succeeded, suitePassed: suite.succeeded),
                                 exitCode: exitCode, outcome: Self.outcome(inJSONLines: exec.stdout),
                                 evidence: Self.evidenceSources(inJSONLines: exec.stdout),
                                 hiddenPassed: hidden.succeeded, suitePassed: suite.succeeded, seconds: seconds, detail: detail)
    }

    /// The hidden tests' files as the project has them, over whatever the run left there
    /// (a run that edited those files is judged against the originals).
    func restoreHiddenTests(_ task: RepositoryTask, into workspace: URL) throws {
        for relative in task.hiddenFiles {
            let source = task.hidden.appendingPathComponent(relative)
            let target = workspace.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: source, to: target)
        }
    }

    struct TestOutcome {
        var succeeded: Bool
        var tail: String
        /// pytest's short summary: the node ids that failed.
        var failures: [String]
    }

    func pytest(_ arguments: [String], task: RepositoryTask, in workspace: URL) async throws -> TestOutcome {
        var environment = ["PYTHONDONTWRITEBYTECODE": "1"]
        if !task.pythonpath.isEmpty { environment["PYTHONPATH"] = task.pythonpath }
        let result = try await sandbox.run(ExecutionRequest(
            command: ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=short", "-rfE"] + arguments, workspace: workspace,
            environment: environment, limits: ResourceLimits(wallClockSeconds: 600, cpuSeconds: 600), applyChanges: false))
        let output = result.stdout.text + result.stderr.text
        return TestOutcome(succeeded: result.succeeded, tail: output.split(separator: "\n").suffix(4).joined(separator: "\n"),
                           failures: KnownFailures.failures(in: output))
    }

    /// The outcome of the `done` event in `doer exec --json`'s output.
    static func outcome(inJSONLines output: String) -> String? {
        for line in output.split(separator: "\n").reversed() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["type"] as? String == "done" else { continue }
            return find("outcome", in: object)
        }
        return nil
    }

    /// Whose tests went red to green in the run's last evidence event (`request-examples`,
    /// `workspace-tests`, `model-tests`), when it had one. `doer exec --json` writes events
    /// flat (`{"type": "evidence", "sources": […], …}`); the encoded event's own nesting
    /// (`{"evidence": {"_0": {…}}}`, as sessions store it) is read too.
    static func evidenceSources(inJSONLines output: String) -> [String]? {
        for line in output.split(separator: "\n").reversed() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            if object["type"] as? String == "evidence" { return object["sources"] as? [String] ?? [] }
            guard let evidence = object["evidence"] as? [String: Any] else { continue }
            let record = (evidence["_0"] as? [String: Any]) ?? evidence
            return record["sources"] as? [String] ?? []
        }
        return nil
    }

    private static func find(_ key: String, in value: Any) -> String? {
        if let object = value as? [String: Any] {
            if let found = object[key] as? String { return found }
            for nested in object.values { if let found = find(key, in: nested) { return found } }
        }
        return nil
    }
}
