import Foundation
import Subprocess
import Synchronization
#if canImport(System)
import System
#else
import SystemPackage
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program on this machine, outside any sandbox, to completion: git for a deploy,
/// python3 and pip for the local model. Every such program Doer runs goes through here.
///
/// Built on swift-subprocess, whose spawn does not share Foundation `Process`'s descriptor
/// handling (which races with the sandbox's own spawning when both run in one process),
/// and which waits without blocking a thread of the concurrency pool.
///
/// ```swift
/// let output = try await ProcessRunner(timeout: .seconds(30)).run("git", ["status", "--porcelain"])
/// guard output.succeeded else { throw MyError.git(output.statusDescription, output.tail()) }
/// ```
public struct ProcessRunner: Sendable {
    /// The environment a program sees.
    public enum Environment: Sendable, Equatable {
        /// Doer's own, with `setting` added or replaced and `unsetting` removed.
        case inherited(setting: [String: String] = [:], unsetting: Set<String> = [])
        /// Exactly these variables.
        case exactly([String: String])
    }

    public var environment: Environment
    /// Bytes kept of each of stdout and stderr: the last ones (`ProcessOutput.truncated` says
    /// when there were more).
    public var outputLimit: Int
    /// How long the program may run; then it and the processes it started get SIGTERM and,
    /// `terminationGrace` later, SIGKILL. Nil: as long as it takes.
    public var timeout: Duration?
    public var terminationGrace: Duration
    /// Pass the program's output through to Doer's stderr (an install a person watches)
    /// instead of capturing it.
    public var showOutput: Bool

    public init(environment: Environment = .inherited(), outputLimit: Int = 8 << 20, timeout: Duration? = nil,
                terminationGrace: Duration = .seconds(2), showOutput: Bool = false) {
        self.environment = environment
        self.outputLimit = outputLimit
        self.timeout = timeout
        self.terminationGrace = terminationGrace
        self.showOutput = showOutput
    }

    /// Runs `program` (a path, or a name looked up in the PATH of the program's environment)
    /// with `arguments`, stdin from /dev/null. A program that ran is never an error, whatever
    /// its exit; one that could not be run is.
    public func run(_ program: String, _ arguments: [String]) async throws(ProcessError) -> ProcessOutput {
        let executable: Executable
        if program.contains("/") {
            guard FileManager.default.isExecutableFile(atPath: program) else { throw .notFound(program: program, searched: "") }
            executable = .path(FilePath(program))
        } else {
            executable = .name(program)
        }
        var options = PlatformOptions()
        if timeout != nil {
            // Its own process group, so that a timeout reaches what it started too (git's ssh,
            // pip's compilers). Only then: a program in the terminal's group stops with Doer
            // on Ctrl-C, which is what a person watching an install expects.
            options.processGroupID = 0
            options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: terminationGrace)]
        }
        let stdout = TailBox(limit: outputLimit)
        let stderr = TailBox(limit: outputLimit)
        let started = Started()
        let attempt: @Sendable () async throws -> TerminationStatus = { [environment, showOutput, options] in
            try await Self.spawn(executable, arguments: arguments, environment: environment, options: options,
                                 showOutput: showOutput, stdout: stdout, stderr: stderr, started: started)
        }

        let ending: Ending
        if let timeout {
            ending = await withTaskGroup(of: Race.self) { group in
                group.addTask { .ended(await Ending(catching: attempt)) }
                // The timeout counts from the program's start: on a loaded machine the spawn
                // itself can wait for a thread, and that wait is not the program's time.
                group.addTask { await Race.after(timeout, from: started) }
                if case .ended(let ending)? = await group.next() { group.cancelAll(); return ending }
                // Timed out. The program's group is ended with signals rather than by cancelling
                // the run: a cancelled run stops reading too, and what the program printed that
                // was not read yet (a loaded machine reads late) would be lost.
                started.signalGroup(SIGTERM)
                group.addTask { await Race.after(terminationGrace) }
                if case .ended(let ending)? = await group.next() { group.cancelAll(); return ending.afterTimeout }
                started.signalGroup(SIGKILL)
                // Its pipes close with it and the reads end; something it started that left its
                // group may keep them open, so the run is cancelled after a while all the same.
                group.addTask { await Race.after(.seconds(2)) }
                if case .ended(let ending)? = await group.next() { group.cancelAll(); return ending.afterTimeout }
                // Cancelling the run tears the process group down (see `teardownSequence`);
                // the run itself still ends, mostly with the status it was killed with.
                group.cancelAll()
                for await next in group {
                    if case .ended(let ending) = next { return ending.afterTimeout }
                }
                return .timedOut
            }
        } else {
            ending = await Ending(catching: attempt)
        }

        let searched = environment.path ?? ""
        let output = { (status: TerminationStatus?, timedOut: Bool) -> ProcessOutput in
            var result = ProcessOutput(status: 0, stdout: stdout.text, stderr: stderr.text, timedOut: timedOut,
                                       truncated: stdout.truncated || stderr.truncated)
            switch status {
            case .exited(let code)?: result.status = Int32(truncatingIfNeeded: code)
            case .signaled(let number)?:
                result.signal = Int32(number)
                result.status = 128 + Int32(number)
            case nil:
                result.signal = SIGKILL
                result.status = 128 + SIGKILL
            }
            return result
        }
        switch ending {
        case .finished(.success(let status)): return output(status, false)
        case .killedOnTimeout(let status): return output(status, true)
        case .timedOut:
            // Killed before it was seen to end (the run threw on cancellation).
            guard started.value else { throw .couldNotStart(program: program, reason: "timed out before it started") }
            return output(nil, true)
        case .finished(.failure(let error)):
            if started.value, Task.isCancelled { throw .failed(program: program, reason: "cancelled") }
            throw Self.processError(error, program: program, searched: searched)
        }
    }

    private static func spawn(_ executable: Executable, arguments: [String], environment: Environment, options: PlatformOptions,
                              showOutput: Bool, stdout: TailBox, stderr: TailBox, started: Started) async throws -> TerminationStatus {
        if showOutput {
            let standardError = FileDescriptor.standardError
            return try await Subprocess.run(
                executable, arguments: Arguments(arguments), environment: environment.subprocess, platformOptions: options,
                input: .none, output: .fileDescriptor(standardError, closeAfterSpawningProcess: false),
                error: .fileDescriptor(standardError, closeAfterSpawningProcess: false)
            ) { execution in started.set(execution.processIdentifier.value) }.terminationStatus
        }
        return try await Subprocess.run(
            executable, arguments: Arguments(arguments), environment: environment.subprocess, platformOptions: options,
            input: .none, output: .sequence, error: .sequence
        ) { execution in
            started.set(execution.processIdentifier.value)
            // Both streams are drained at once so that neither can fill up and stall the program.
            async let errors: Void = stderr.drain(execution.standardError)
            await stdout.drain(execution.standardOutput)
            await errors
        }.terminationStatus
    }

    private static func processError(_ error: any Error, program: String, searched: String) -> ProcessError {
        guard let error = error as? SubprocessError else { return .failed(program: program, reason: "\(error)") }
        switch error.code {
        case .executableNotFound: return .notFound(program: program, searched: searched)
        case .spawnFailed:
            let reason = error.underlyingError.map { "\($0)" } ?? "\(error)"
            return .couldNotStart(program: program, reason: reason)
        default: return .failed(program: program, reason: "\(error)")
        }
    }
}

extension ProcessRunner.Environment {
    /// This environment with `name` set to `value`.
    public func setting(_ name: String, to value: String) -> Self {
        switch self {
        case .inherited(var setting, var unsetting):
            setting[name] = value
            unsetting.remove(name)
            return .inherited(setting: setting, unsetting: unsetting)
        case .exactly(var variables):
            variables[name] = value
            return .exactly(variables)
        }
    }

    var subprocess: Subprocess.Environment {
        switch self {
        case .inherited(let setting, let unsetting):
            var updates: [Subprocess.Environment.Key: String?] = [:]
            for name in unsetting { updates[Subprocess.Environment.Key(stringLiteral: name)] = .some(nil) }
            for (name, value) in setting { updates[Subprocess.Environment.Key(stringLiteral: name)] = value }
            return .inherit.updating(updates)
        case .exactly(let variables):
            var all: [Subprocess.Environment.Key: String] = [:]
            for (name, value) in variables { all[Subprocess.Environment.Key(stringLiteral: name)] = value }
            return .custom(all)
        }
    }

    /// The PATH a name is looked up in.
    var path: String? {
        switch self {
        case .inherited(let setting, let unsetting):
            if let path = setting["PATH"] { return path }
            return unsetting.contains("PATH") ? nil : ProcessInfo.processInfo.environment["PATH"]
        case .exactly(let variables): return variables["PATH"] ?? ProcessInfo.processInfo.environment["PATH"]
        }
    }
}

/// How a run ended, as seen by the task that waited for it.
private enum Ending: Sendable {
    case finished(Result<TerminationStatus, any Error>)
    case killedOnTimeout(TerminationStatus)
    case timedOut

    init(catching attempt: () async throws -> TerminationStatus) async {
        do { self = .finished(.success(try await attempt())) } catch { self = .finished(.failure(error)) }
    }

    /// This ending, for a run the timeout cancelled.
    var afterTimeout: Ending {
        if case .finished(.success(let status)) = self { return .killedOnTimeout(status) }
        return .timedOut
    }
}

/// A stream's tail, filled by the task that reads it and read once the run is over (or
/// timed out, when the reader may have been cut short).
private final class TailBox: Sendable {
    private let tail: Mutex<OutputTail>

    init(limit: Int) {
        tail = Mutex(OutputTail(limit: limit))
    }

    func drain(_ stream: SubprocessOutputSequence) async {
        // A read cut short by the timeout keeps what came before it.
        do {
            for try await chunk in stream {
                chunk.withUnsafeBytes { bytes in tail.withLock { $0.append(bytes) } }
            }
        } catch {}
    }

    var text: String { tail.withLock { $0.text } }
    var truncated: Bool { tail.withLock { $0.isTruncated } }
}

/// Whether the program was started (a failure before that is a spawn failure), and its
/// process id, which is its process group's when it runs with a timeout.
private final class Started: Sendable {
    private let pid = Mutex<pid_t?>(nil)
    func set(_ value: pid_t) { pid.withLock { $0 = value } }
    var value: Bool { pid.withLock { $0 != nil } }

    /// Sends `signal` to the program's process group, once it has started.
    func signalGroup(_ signal: Int32) {
        guard let group = pid.withLock({ $0 }), group > 0 else { return }
        kill(-group, signal)
    }
}

/// What finished first in a timed run: the run, or a wait.
private enum Race: Sendable {
    case ended(Ending)
    case elapsed

    /// Ends after `duration`, or at once when cancelled.
    static func after(_ duration: Duration) async -> Race {
        try? await Task.sleep(for: duration)
        return .elapsed
    }

    /// Ends `duration` after the program has started, or at once when cancelled (a run that
    /// could not start ends first, and cancels this).
    static func after(_ duration: Duration, from started: Started) async -> Race {
        while !started.value {
            do { try await Task.sleep(for: .milliseconds(5)) } catch { return .elapsed }
        }
        return await after(duration)
    }
}
