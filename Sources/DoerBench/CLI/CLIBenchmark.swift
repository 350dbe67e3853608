public import DoerCore
public import DoerSandbox
public import Foundation

/// `doer bench cli`: how long `doer` takes to start and to run a trivial sandboxed command,
/// each against a yardstick built and measured in the same run: a C hello-world compiled
/// here with cc, and a shell script running raw bwrap with the namespaces and mounts Doer
/// uses (`RawBubblewrap`). Ratios to the yardsticks carry from one machine to another;
/// absolute times do not.
public struct CLIBenchmark: Sendable {
    public struct Series: Sendable, Codable {
        public var name: String
        public var command: String
        public var samplesMs: [Double]
        public var median: Double { Statistics.median(samplesMs) ?? .nan }
    }

    /// One of Doer's figures read against its yardstick.
    public struct Comparison: Sendable, Codable {
        public var measured: String
        public var yardstick: String
        public var ratio: Double
        /// The ratio the project aims to stay within.
        public var goal: Double
        public var met: Bool { ratio <= goal }
    }

    public struct Report: Sendable, Codable {
        public var series: [Series]
        public var comparisons: [Comparison]
        public var notes: [String]
    }

    /// The `doer` executable measured.
    public let doer: URL
    public let configuration: SandboxConfiguration
    public var iterations: Int
    /// Runs of each command before any is timed: page cache, a fresh data folder's databases.
    public var warmUps = 3

    public init(doer: URL, configuration: SandboxConfiguration, iterations: Int = 50) {
        self.doer = doer
        self.configuration = configuration
        self.iterations = iterations
    }

    public func run(progress: @Sendable (String) -> Void = { _ in }) throws(DoerError) -> Report {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("doer-bench-cli-\(getpid())", isDirectory: true)
        let workspace = scratch.appendingPathComponent("workspace", isDirectory: true)
        let home = scratch.appendingPathComponent("home", isDirectory: true)
        do {
            for folder in [scratch, workspace, home] {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o755])
            }
        } catch {
            throw .workspace("cannot create \(scratch.path): \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(at: scratch) }
        // A fresh data folder: the runs are measured with the default configuration, and the
        // user's own sessions and audit trail get none of the bench's runs.
        var environment = ProcessInfo.processInfo.environment
        environment["DOER_HOME"] = home.path
        let env = environment.map { "\($0.key)=\($0.value)" }
        var notes: [String] = []

        var commands: [(name: String, line: [String], identity: (uid: UInt32, gid: UInt32)?)] = []
        progress("compiling the C hello-world")
        do {
            commands.append(("c_hello", [try Self.compileHello(in: scratch)], nil))
        } catch {
            notes.append("C hello-world not measured: \(error.description)")
        }
        // `--version` where this build has it, else `--help`, which also parses and exits.
        let version = (try? HostProcess.run([doer.path, "--version"], environment: env)) == .exited(0)
        commands.append((version ? "doer_version" : "doer_help", [doer.path, version ? "--version" : "--help"], nil))
        if !version { notes.append("this doer has no --version: `doer --help` measured in its place") }
        do {
            let raw = try RawBubblewrap(configuration: configuration, workspace: workspace)
            let script = scratch.appendingPathComponent("raw-bwrap.sh")
            try Self.write(raw.script(["/bin/true"]), to: script)
            commands.append(("raw_bwrap_script", ["/bin/sh", script.path], raw.identity))
        } catch {
            notes.append("raw bubblewrap not measured: \(error.description)")
        }
        commands.append(("doer_sandbox_true", [doer.path, "sandbox", "--workspace", workspace.path, "--", "/bin/true"], nil))

        for command in commands {
            progress("warming up \(command.name)")
            for _ in 0..<warmUps {
                let termination = try HostProcess.run(command.line, environment: env, identity: command.identity)
                guard termination == .exited(0) else {
                    throw .sandboxFailure("\(command.line.joined(separator: " ")) ended \(termination)")
                }
            }
        }
        // Round robin, one run of each per round, so a slow spell of the machine weighs on
        // every series alike instead of on whichever ran then.
        progress("\(iterations) rounds of \(commands.map(\.name).joined(separator: ", "))")
        var samples = Array(repeating: [Double](), count: commands.count)
        for _ in 0..<iterations {
            for (index, command) in commands.enumerated() {
                let start = ContinuousClock.now
                _ = try HostProcess.run(command.line, environment: env, identity: command.identity)
                samples[index].append((ContinuousClock.now - start).milliseconds)
            }
        }
        let series = commands.enumerated().map { index, command in
            Series(name: command.name, command: command.line.joined(separator: " "), samplesMs: samples[index])
        }
        func ratio(_ measured: String, _ yardstick: String, goal: Double) -> Comparison? {
            guard let doer = series.first(where: { $0.name == measured })?.median,
                  let base = series.first(where: { $0.name == yardstick })?.median, base > 0 else { return nil }
            return Comparison(measured: measured, yardstick: yardstick, ratio: doer / base, goal: goal)
        }
        let comparisons = [ratio(version ? "doer_version" : "doer_help", "c_hello", goal: 8),
                           ratio("doer_sandbox_true", "raw_bwrap_script", goal: 2)].compactMap { $0 }
        return Report(series: series, comparisons: comparisons, notes: notes)
    }

    /// Compiles a C program that prints one line and exits; returns the binary's path.
    static func compileHello(in folder: URL) throws(DoerError) -> String {
        let source = folder.appendingPathComponent("hello.c"), binary = folder.appendingPathComponent("hello")
        try write("#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n", to: source)
        let compilers: [String] = ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"]
        guard let cc = compilers.first(where: { access($0, X_OK) == 0 }) else {
            throw .fileNotFound("a C compiler (cc); install gcc or clang")
        }
        let termination = try HostProcess.run([cc, "-O2", "-o", binary.path, source.path],
                                              environment: ["PATH=/usr/local/bin:/usr/bin:/bin"])
        guard termination == .exited(0) else { throw .sandboxFailure("\(cc) could not compile \(source.path): \(termination)") }
        return binary.path
    }

    static func write(_ text: String, to file: URL) throws(DoerError) {
        do {
            try Data(text.utf8).write(to: file)
            _ = chmod(file.path, 0o755)
        } catch {
            throw .workspace("cannot write \(file.path): \(error.localizedDescription)")
        }
    }
}
