import Foundation

/// One command to run in a sandbox.
public struct ExecutionRequest: Sendable, Hashable {
    /// The program and its arguments; the program is looked up on the sandbox's PATH.
    public var command: [String]
    /// The host directory the sandbox sees as its workspace.
    public var workspace: URL
    /// Directory relative to the workspace to start in ("" is the workspace itself).
    public var workingSubdirectory: String
    /// Variables added to the sandbox's clean environment.
    public var environment: [String: String]
    public var stdin: Data
    public var limits: ResourceLimits
    public var mode: SandboxMode
    public var network: NetworkPolicy
    /// Run on a copy-on-write view; the changes come back in the result and are applied to
    /// the real workspace only when `applyChanges` is set.
    public var applyChanges: Bool
    /// Extra host directories mounted read-only at the same path (toolchains).
    public var readOnlyPaths: [String]
    /// Host directories mounted read-write at the same path (a language's build cache).
    /// They outlive the run, so give them only to steps that are meant to fill them.
    public var writablePaths: [String]

    public init(
        command: [String],
        workspace: URL,
        workingSubdirectory: String = "",
        environment: [String: String] = [:],
        stdin: Data = Data(),
        limits: ResourceLimits = ResourceLimits(),
        mode: SandboxMode = .workspaceWrite,
        network: NetworkPolicy = .none,
        applyChanges: Bool = true,
        readOnlyPaths: [String] = [],
        writablePaths: [String] = []
    ) {
        self.command = command
        self.workspace = workspace
        self.workingSubdirectory = workingSubdirectory
        self.environment = environment
        self.stdin = stdin
        self.limits = limits
        self.mode = mode
        self.network = network
        self.applyChanges = applyChanges
        self.readOnlyPaths = readOnlyPaths
        self.writablePaths = writablePaths
    }

    public func validate() throws(DoerError) {
        guard let program = command.first, !program.isEmpty else {
            throw .invalidArgument("no command given")
        }
        if command.contains(where: { $0.utf8.contains(0) }) {
            throw .invalidArgument("command arguments cannot contain NUL bytes")
        }
        if workingSubdirectory.hasPrefix("/") || workingSubdirectory.split(separator: "/").contains("..") {
            throw .invalidArgument("working directory must stay inside the workspace: \(workingSubdirectory)")
        }
        for key in environment.keys where key.isEmpty || key.contains("=") || key.utf8.contains(0) {
            throw .invalidArgument("invalid environment variable name '\(key)'")
        }
        for path in readOnlyPaths + writablePaths where !path.hasPrefix("/") || path.split(separator: "/").contains("..") {
            throw .invalidArgument("mounted paths must be absolute, without '..': \(path)")
        }
        try limits.validate()
    }
}
