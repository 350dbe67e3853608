public import DoerCore
public import DoerSandbox
public import Foundation

/// Runs one step of a language's recipe in the sandbox with the language's mounts:
/// its toolchain folders and support files read-only, its cache read-write only for builds.
public struct LanguageStepRunner: Sendable {
    public let sandbox: any Sandbox
    public let language: Language
    public let folders: LanguageCache.Folders
    public let workspace: URL

    public init(sandbox: any Sandbox, language: Language, folders: LanguageCache.Folders, workspace: URL) {
        self.sandbox = sandbox
        self.language = language
        self.folders = folders
        self.workspace = workspace
    }

    /// The request for `step`; `arguments` become the script's `"$@"`.
    public func request(_ step: LanguageStep, file: String? = nil, arguments: [String] = [], stdin: Data = Data(),
                        limits: ResourceLimits, mode: SandboxMode = .workspaceWrite,
                        applyChanges: Bool = false) -> ExecutionRequest {
        var environment = language.environment
        environment["DOER_CACHE"] = folders.cache
        environment["DOER_SUPPORT"] = folders.support
        if let file { environment["DOER_FILE"] = file }
        let build = step.kind == .build
        return ExecutionRequest(
            command: ["/bin/sh", "-c", ShellPrelude.text + step.script, "doer-\(step.kind.rawValue)"] + arguments,
            workspace: workspace, environment: environment, stdin: stdin,
            limits: build ? Self.buildLimits(limits) : limits, mode: mode,
            // Build output goes to the cache; whatever a build or test leaves in the workspace is thrown away.
            applyChanges: build ? false : applyChanges,
            readOnlyPaths: language.toolchain.resolvedReadOnlyPaths() + [folders.support] + (build ? [] : [folders.cache]),
            writablePaths: build ? [folders.cache] : [])
    }

    public func run(_ step: LanguageStep, file: String? = nil, arguments: [String] = [], stdin: Data = Data(),
                    limits: ResourceLimits, mode: SandboxMode = .workspaceWrite,
                    applyChanges: Bool = false) async throws(DoerError) -> ExecutionResult {
        // A cache an earlier build left nested too deep or unreadable would hide what this
        // one writes from the disk limit: it starts cold instead.
        if step.kind == .build, limits.diskBytes != nil { MeasuredFolder.emptyIfUnmeasurable(folders.cache) }
        // The cache outlives the run, and a build may have opened it to every account
        // (`chmod 755 "$DOER_CACHE"`) after copying the workspace's files in: closed again.
        defer { if step.kind == .build { _ = chmod(folders.cache, 0o700) } }
        return try await sandbox.run(request(step, file: file, arguments: arguments, stdin: stdin, limits: limits,
                                             mode: mode, applyChanges: applyChanges))
    }

    /// Compilers need more room than a program run: at least 5 minutes, 10 CPU minutes,
    /// 2 GiB of memory and 512 processes, or the caller's limits when larger. Not more disk:
    /// what a build writes to its cache stays on the host's disk after the run, and a build
    /// runs code from the workspace too (build scripts, macros, a source that makes a huge
    /// object file), so the run's disk limit — lowered with `--disk` or `disk_bytes` —
    /// holds for it as for the program.
    static func buildLimits(_ limits: ResourceLimits) -> ResourceLimits {
        var build = limits
        build.wallClockSeconds = max(limits.wallClockSeconds, 300)
        build.cpuSeconds = limits.cpuSeconds.map { max($0, 600) }
        build.memoryBytes = limits.memoryBytes.map { max($0, 2 << 30) }
        build.processes = limits.processes.map { max($0, 512) }
        build.fileSizeBytes = limits.fileSizeBytes.map { max($0, 1 << 30) }
        return build
    }
}
