import Foundation

/// How a sandboxed command ended.
public enum Termination: Sendable, Hashable, Codable {
    case exited(Int32)
    case signaled(Int32)
    /// The command never started: not found, not executable, or the sandbox failed.
    case failedToStart(String)

    /// The exit code a shell would report: the code, 128+signal, or 127 when it never ran.
    public var shellExitCode: Int32 {
        switch self {
        case .exited(let code): return code
        case .signaled(let signal): return 128 + signal
        case .failedToStart: return 127
        }
    }
}

/// A file the run added, modified or deleted in its workspace view.
public struct FileChange: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable { case added, modified, deleted }
    public var path: String
    public var kind: Kind
    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }
}

/// Everything known about one sandboxed run.
public struct ExecutionResult: Sendable, Hashable, Codable {
    public var termination: Termination
    public var timedOut: Bool
    public var memoryKilled: Bool
    /// The run filled what its disk limit allows (`ResourceLimits.diskBytes`) and was
    /// stopped; writes past the limit failed with ENOSPC.
    public var diskLimitExceeded: Bool
    public var durationMs: Double
    public var peakMemoryBytes: Int64?
    public var cpuUserMs: Double?
    public var cpuSystemMs: Double?
    public var stdout: CapturedOutput
    public var stderr: CapturedOutput
    public var changedFiles: [FileChange]
    /// Whether `changedFiles` were written back to the real workspace.
    public var changesApplied: Bool
    /// Why the changes could not be applied (nothing was: the workspace is as it was), or nil.
    public var applyFailure: String? = nil
    public var backend: SandboxBackendKind
    /// Limits that could not be enforced on this machine, and similar notes.
    public var warnings: [String]
    /// Every decision the egress proxy made for this run (empty without network).
    public var networkDecisions: [NetworkDecision]
    /// The run's sandbox was reset clean afterwards and serves the next run of its shape
    /// (`[sandbox] runs_per_sandbox`); nil or false: it was ended.
    public var sandboxKept: Bool? = nil

    public init(
        termination: Termination, timedOut: Bool = false, memoryKilled: Bool = false,
        diskLimitExceeded: Bool = false, durationMs: Double, peakMemoryBytes: Int64? = nil, cpuUserMs: Double? = nil,
        cpuSystemMs: Double? = nil, stdout: CapturedOutput = CapturedOutput(),
        stderr: CapturedOutput = CapturedOutput(), changedFiles: [FileChange] = [],
        changesApplied: Bool = false, backend: SandboxBackendKind, warnings: [String] = [],
        networkDecisions: [NetworkDecision] = []
    ) {
        self.termination = termination
        self.timedOut = timedOut
        self.memoryKilled = memoryKilled
        self.diskLimitExceeded = diskLimitExceeded
        self.durationMs = durationMs
        self.peakMemoryBytes = peakMemoryBytes
        self.cpuUserMs = cpuUserMs
        self.cpuSystemMs = cpuSystemMs
        self.stdout = stdout
        self.stderr = stderr
        self.changedFiles = changedFiles
        self.changesApplied = changesApplied
        self.backend = backend
        self.warnings = warnings
        self.networkDecisions = networkDecisions
    }

    /// A run that went over its disk limit did not succeed, even if it ignored the error.
    public var succeeded: Bool { termination == .exited(0) && !timedOut && !diskLimitExceeded }
}
