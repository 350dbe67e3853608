public import DoerCore
public import DoerSandbox
public import Foundation

/// Runs one source file in the sandbox: compiled languages are built into their cache
/// first (with the cache writable), then run with the cache read-only.
public struct FileRunner: Sendable {
    public let sandbox: any Sandbox
    public let cache: LanguageCache

    public init(sandbox: any Sandbox, cache: LanguageCache) {
        self.sandbox = sandbox
        self.cache = cache
    }

    public struct Outcome: Sendable {
        /// The failed build step, when the program never ran.
        public var failedBuild: ExecutionResult?
        public var run: ExecutionResult?
        /// The command of the last step that ran (for the audit trail).
        public var command: [String]
    }

    /// `file` is relative to `workspace`.
    public func run(_ file: String, language: Language, arguments: [String] = [], workspace: URL, stdin: Data = Data(),
                    limits: ResourceLimits = ResourceLimits(), mode: SandboxMode = .workspaceWrite,
                    network: NetworkPolicy = .none, applyChanges: Bool = true) async throws(DoerError) -> Outcome {
        guard let recipe = language.run else {
            throw .invalidArgument("Doer does not know how to run \(language.displayName) files")
        }
        let missing = language.toolchain.missing()
        if !missing.isEmpty { throw LanguageToolchains.missingError(language, missing) }
        let folders = try cache.folders(for: language, workspace: workspace)
        let steps = LanguageStepRunner(sandbox: sandbox, language: language, folders: folders, workspace: workspace)
        // Builds never get the network: only the program asked to run does.
        for step in recipe.build {
            let request = steps.request(step, file: file, limits: limits)
            let result = try await sandbox.run(request)
            if !result.succeeded { return Outcome(failedBuild: result, run: nil, command: request.command) }
        }
        var request = steps.request(recipe.run, file: file, arguments: arguments, stdin: stdin, limits: limits,
                                    mode: mode, applyChanges: applyChanges)
        request.network = network
        return Outcome(failedBuild: nil, run: try await sandbox.run(request), command: request.command)
    }
}
