public import DoerCore
import Foundation

/// `doer bench sandbox`: start-to-exit latency of trivial commands bare, in bubblewrap
/// cold, from the warm pool and in gVisor, plus throughput, all measured in one run.
public struct SandboxBenchmark: Sendable {
    public struct Series: Sendable, Codable {
        public var name: String
        public var samplesMs: [Double]
        public var p50: Double { Self.percentile(samplesMs, 0.50) }
        public var p99: Double { Self.percentile(samplesMs, 0.99) }

        static func percentile(_ values: [Double], _ q: Double) -> Double {
            guard !values.isEmpty else { return .nan }
            let sorted = values.sorted()
            let rank = q * Double(sorted.count - 1)
            let low = Int(rank.rounded(.down)), high = Int(rank.rounded(.up))
            return sorted[low] + (sorted[high] - sorted[low]) * (rank - Double(low))
        }
    }

    public struct Report: Sendable {
        public var series: [Series]
        public var runsPerSecond: Double
        public var workers: Int
        public var notes: [String]

        public func series(_ name: String) -> Series? { series.first { $0.name == name } }
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

        var cold = configuration
        cold.warmPoolSize = 0
        let coldSandbox = try SandboxFactory(configuration: cold).make(.bubblewrap)
        for (label, command) in commands {
            progress("bubblewrap cold \(label)")
            series.append(Series(name: "bwrap_cold_\(label)",
                                 samplesMs: try await sandboxed(coldSandbox, command, workspace, count: iterations, warm: false)))
        }

        var warm = configuration
        warm.warmPoolSize = max(configuration.warmPoolSize, 2)
        let warmSandbox = try SandboxFactory(configuration: warm).make(.bubblewrap)
        for (label, command) in commands {
            progress("warm pool \(label)")
            series.append(Series(name: "warm_pool_\(label)",
                                 samplesMs: try await sandboxed(warmSandbox, command, workspace, count: iterations, warm: true)))
        }

        do {
            let gvisor = try SandboxFactory(configuration: cold).make(.gvisor)
            progress("gvisor true")
            series.append(Series(name: "gvisor_true",
                                 samplesMs: try await sandboxed(gvisor, ["/bin/true"], workspace, count: gvisorIterations, warm: false)))
        } catch {
            notes.append("gVisor not measured: \(error.description)")
        }

        progress("throughput with \(workers) workers")
        let perSecond = try await throughput(coldSandbox, workspace)
        return Report(series: series, runsPerSecond: perSecond, workers: workers, notes: notes)
    }

    private func bare(_ command: [String], count: Int) throws(DoerError) -> [Double] {
        var samples: [Double] = []
        for _ in 0..<count {
            let start = ContinuousClock.now
            let process = try SpawnedProcess.spawn(SpawnSpec(executable: command[0], arguments: Array(command.dropFirst()),
                                                             identity: nil, controlChannel: false))
            _ = process.reap()
            samples.append((ContinuousClock.now - start).milliseconds)
            process.closeAll()
        }
        return samples
    }

    private func request(_ command: [String], _ workspace: URL) -> ExecutionRequest {
        ExecutionRequest(command: command, workspace: workspace, limits: ResourceLimits(wallClockSeconds: 30))
    }

    private func sandboxed(_ sandbox: any Sandbox, _ command: [String], _ workspace: URL, count: Int,
                           warm: Bool) async throws(DoerError) -> [Double] {
        var samples: [Double] = []
        let request = request(command, workspace)
        for _ in 0..<count {
            // A warm run is timed only once a sandbox is waiting, as a user's next run
            // would find one after the previous refill.
            if warm, let engine = sandbox as? SandboxEngine { await engine.warmUp(for: request) }
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
                        for _ in 0..<perWorker { _ = try await sandbox.run(request) }
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
