public import DoerCore
public import DoerSandbox
import Foundation
import Synchronization

/// `doer bench sandbox`: start-to-exit latency of trivial commands bare, in raw bubblewrap
/// (the yardstick: the same namespaces, none of Doer's work), in Doer's bubblewrap sandbox
/// cold, from the warm pool, in a sandbox that served the run before (reset between runs) and
/// in gVisor, plus throughput of Doer (reusing sandboxes, and starting one per run) and of
/// raw bubblewrap, all measured in one run.
public struct SandboxBenchmark: Sendable {
    public struct Series: Sendable, Codable {
        public var name: String
        public var samplesMs: [Double]
        public var p50: Double { Statistics.percentile(samplesMs, 0.50) ?? .nan }
        public var p99: Double { Statistics.percentile(samplesMs, 0.99) ?? .nan }
    }

    public struct Report: Sendable {
        public var series: [Series]
        /// Doer's throughput as it runs by default: sandboxes serve several runs of one shape.
        public var runsPerSecond: Double
        /// Doer's throughput with a new sandbox for every run (`runs_per_sandbox = 1`).
        public var coldRunsPerSecond: Double
        /// Raw bubblewrap's throughput with the same workers (nil when it could not run).
        public var rawRunsPerSecond: Double?
        public var workers: Int
        public var notes: [String]

        public func series(_ name: String) -> Series? { series.first { $0.name == name } }

        /// Doer's cold start over raw bubblewrap's, p50 against p50 (goal: 1.25 or less).
        public var coldStartRatio: Double? {
            guard let doer = series("bwrap_cold_true")?.p50, let raw = series("raw_bwrap_true")?.p50, raw > 0 else { return nil }
            return doer / raw
        }

        /// Doer's throughput over raw bubblewrap's (goal: 1.5 or more).
        public var throughputRatio: Double? {
            guard let raw = rawRunsPerSecond, raw > 0 else { return nil }
            return runsPerSecond / raw
        }
    }

    public var configuration: SandboxConfiguration
    public var iterations: Int
    public var gvisorIterations: Int
    public var throughputRuns: Int
    public var workers: Int

    public init(configuration: SandboxConfiguration, iterations: Int = 200, gvisorIterations: Int = 10,
                throughputRuns: Int = 400, workers: Int = 2) {
        self.configuration = configuration
        self.iterations = iterations
        self.gvisorIterations = gvisorIterations
        self.throughputRuns = throughputRuns
        self.workers = workers
    }

    public func run(progress: @Sendable (String) -> Void = { _ in }) async throws(DoerError) -> Report {
        let workspace = FileManager.default.temporaryDirectory.appendingPathComponent("doer-bench-\(getpid())")
        try? FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: workspace) }
        var notes: [String] = []
        var series: [Series] = []
        let commands: [(String, [String])] = [("true", ["/bin/true"]), ("python", ["/usr/bin/python3", "-c", "pass"])]

        for (label, command) in commands {
            progress("bare \(label)")
            series.append(Series(name: "bare_\(label)", samplesMs: try bare(command, count: iterations)))
        }

        var raw: RawBubblewrap?
        do {
            raw = try RawBubblewrap(configuration: configuration, workspace: workspace)
        } catch {
            notes.append("raw bubblewrap not measured: \(error.description)")
        }
        if let raw {
            for (label, command) in commands {
                progress("raw bubblewrap \(label)")
                series.append(Series(name: "raw_bwrap_\(label)", samplesMs: try rawRuns(raw, command, count: iterations)))
            }
        }

        var cold = configuration
        cold.warmPoolSize = 0
        cold.runsPerSandbox = 1
        let coldSandbox = try SandboxFactory(configuration: cold).make(.bubblewrap)
        for (label, command) in commands {
            progress("bubblewrap cold \(label)")
            series.append(Series(name: "bwrap_cold_\(label)",
                                 samplesMs: try await sandboxed(coldSandbox, command, workspace, count: iterations, warm: false)))
        }

        var warm = configuration
        warm.warmPoolSize = max(configuration.warmPoolSize, 2)
        warm.runsPerSandbox = 1
        let warmSandbox = try SandboxFactory(configuration: warm).make(.bubblewrap)
        for (label, command) in commands {
            progress("warm pool \(label)")
            series.append(Series(name: "warm_pool_\(label)",
                                 samplesMs: try await sandboxed(warmSandbox, command, workspace, count: iterations, warm: true)))
        }

        var reused = configuration
        reused.warmPoolSize = 0
        if reused.runsPerSandbox < 2 { reused.runsPerSandbox = SandboxConfiguration.defaultRunsPerSandbox }
        let reusedSandbox = try SandboxFactory(configuration: reused).make(.bubblewrap)
        for (label, command) in commands {
            progress("reused sandbox \(label)")
            series.append(Series(name: "reused_\(label)",
                                 samplesMs: try await sandboxed(reusedSandbox, command, workspace, count: iterations, warm: false,
                                                                settle: true)))
        }

        do {
            let gvisor = try SandboxFactory(configuration: cold).make(.gvisor)
            progress("gvisor true")
            series.append(Series(name: "gvisor_true",
                                 samplesMs: try await sandboxed(gvisor, ["/bin/true"], workspace, count: gvisorIterations, warm: false)))
        } catch {
            notes.append("gVisor not measured: \(error.description)")
        }

        progress("throughput with \(workers) workers, sandboxes reused")
        let perSecond = try await throughput(reusedSandbox, workspace)
        progress("throughput with \(workers) workers, a sandbox per run")
        let coldPerSecond = try await throughput(coldSandbox, workspace)
        var rawPerSecond: Double?
        if let raw {
            progress("raw bubblewrap throughput with \(workers) workers")
            rawPerSecond = try rawThroughput(raw)
        }
        return Report(series: series, runsPerSecond: perSecond, coldRunsPerSecond: coldPerSecond, rawRunsPerSecond: rawPerSecond,
                      workers: workers, notes: notes)
    }

    private func bare(_ command: [String], count: Int) throws(DoerError) -> [Double] {
        var samples: [Double] = []
        for _ in 0..<count {
            let start = ContinuousClock.now
            _ = try HostProcess.run(command)
            samples.append((ContinuousClock.now - start).milliseconds)
        }
        return samples
    }

    private func rawRuns(_ raw: RawBubblewrap, _ command: [String], count: Int) throws(DoerError) -> [Double] {
        let line = raw.commandLine(command)
        var samples: [Double] = []
        for _ in 0..<count {
            let start = ContinuousClock.now
            let termination = try HostProcess.run(line, identity: raw.identity)
            samples.append((ContinuousClock.now - start).milliseconds)
            guard termination == .exited(0) else {
                throw .sandboxFailure("raw bubblewrap \(command.joined(separator: " ")) ended \(termination): \(line.joined(separator: " "))")
            }
        }
        return samples
    }

    /// Raw bubblewrap runs of /bin/true from `workers` threads at once (each blocks in wait).
    private func rawThroughput(_ raw: RawBubblewrap) throws(DoerError) -> Double {
        let line = raw.commandLine(["/bin/true"])
        let perWorker = max(1, throughputRuns / workers)
        let failures = Failures()
        let start = ContinuousClock.now
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            for _ in 0..<perWorker {
                do {
                    if try HostProcess.run(line, identity: raw.identity) != .exited(0) { failures.add("raw bubblewrap /bin/true failed") }
                } catch {
                    failures.add("\(error)")
                }
            }
        }
        let elapsed = (ContinuousClock.now - start).milliseconds
        if let first = failures.first { throw .sandboxFailure(first) }
        return Double(perWorker * workers) / elapsed * 1000
    }

    private func request(_ command: [String], _ workspace: URL) -> ExecutionRequest {
        ExecutionRequest(command: command, workspace: workspace, limits: ResourceLimits(wallClockSeconds: 30))
    }

    /// - Parameter settle: wait before each run until a sandbox the previous run left is back
    ///   in the pool (its view is emptied off the run's path), as it is for a user's next run.
    private func sandboxed(_ sandbox: any Sandbox, _ command: [String], _ workspace: URL, count: Int,
                           warm: Bool, settle: Bool = false) async throws(DoerError) -> [Double] {
        var samples: [Double] = []
        let request = request(command, workspace)
        for _ in 0..<count {
            // A warm run is timed only once a sandbox is waiting, as a user's next run
            // would find one after the previous refill.
            if warm { await SandboxFactory(configuration: configuration).warmUp(sandbox, for: request) }
            if settle { await SandboxFactory(configuration: configuration).settle(sandbox, for: request) }
            let start = ContinuousClock.now
            let result = try await sandbox.run(request)
            samples.append((ContinuousClock.now - start).milliseconds)
            guard result.succeeded else {
                throw .sandboxFailure("benchmark command \(command.joined(separator: " ")) failed: \(result.termination) \(result.stderr.text)")
            }
        }
        return samples
    }

    private func throughput(_ sandbox: any Sandbox, _ workspace: URL) async throws(DoerError) -> Double {
        let request = request(["/bin/true"], workspace)
        let perWorker = max(1, throughputRuns / workers)
        let start = ContinuousClock.now
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<workers {
                    group.addTask {
                        for _ in 0..<perWorker {
                            let result = try await sandbox.run(request)
                            guard result.succeeded else {
                                throw DoerError.sandboxFailure("a throughput run failed: \(result.termination) \(result.stderr.text)")
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        } catch let error as DoerError {
            throw error
        } catch {
            throw .sandboxFailure("\(error)")
        }
        return Double(perWorker * workers) / (ContinuousClock.now - start).milliseconds * 1000
    }
}

/// The first error of concurrent runs.
private final class Failures: Sendable {
    private let errors = Mutex<[String]>([])
    func add(_ error: String) { errors.withLock { $0.append(error) } }
    var first: String? { errors.withLock { $0.first } }
}
