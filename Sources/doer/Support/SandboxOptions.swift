import ArgumentParser
import DoerConfig
import DoerCore
import DoerSandbox
import Foundation

/// Options every command that runs code shares.
struct SandboxOptions: ParsableArguments {
    @Option(name: .long, help: "Sandbox backend: bubblewrap (default), gvisor, kubernetes (a pod per run; [sandbox.kubernetes] in config.toml), or process (no isolation).")
    var backend: SandboxBackendKind?

    @Option(name: .long, help: "Wall-clock limit in seconds; the whole process tree is killed after it.")
    var timeout: Double?

    @Option(name: .long, help: "Memory limit for the whole run, e.g. 512m or 2g.")
    var memory: String?

    @Option(name: .long, help: "What the run may write to disk (its workspace and writable caches), e.g. 256m or 2g; the run is stopped past it.")
    var disk: String?

    @Option(name: .long, help: "The workspace folder the command sees at /workspace (default: the current folder).")
    var workspace: String?

    @Option(name: .long, help: "What the run may do to the workspace: read-only, workspace-write (default), full-access.")
    var mode: SandboxMode = .workspaceWrite

    @Flag(name: .long, help: "Run changes on a copy and throw them away instead of applying them.")
    var discardChanges = false

    @OptionGroup var net: NetworkOptions

    @Flag(name: .long, help: "Print the result as one JSON object.")
    var json = false

    @Flag(name: .customLong("unsafe-no-sandbox"), help: "Allow the 'process' backend, which isolates nothing.")
    var unsafeNoSandbox = false

    func validate() throws {
        if let timeout, !(timeout > 0) || !timeout.isFinite {
            throw ValidationError("--timeout must be a positive number of seconds, got \(timeout)")
        }
        if let memory {
            do { _ = try ByteSize.parse(memory) } catch { throw ValidationError("--memory: \(error.description)") }
        }
        if let disk {
            do {
                var limits = ResourceLimits()
                limits.diskBytes = try ByteSize.parse(disk)
                try limits.validate()
            } catch { throw ValidationError("--disk: \(error.description)") }
        }
        if backend == .process && !unsafeNoSandbox {
            throw ValidationError(DoerError.unsafeBackendRefused.description)
        }
    }

    func networkPolicy(_ configuration: DoerConfiguration) throws(DoerError) -> NetworkPolicy {
        try net.policy(configuration)
    }

    func announce(_ policy: NetworkPolicy) { net.announce(policy) }

    /// The configuration with these flags on top.
    func resolve() throws(DoerError) -> (DoerConfiguration, SandboxConfiguration, ResourceLimits, URL) {
        var configuration = try DoerConfiguration.load()
        if let backend { configuration.sandboxBackend = backend }
        var limits = configuration.limits
        if let timeout { limits.wallClockSeconds = timeout }
        if let memory { limits.memoryBytes = try ByteSize.parse(memory) }
        if let disk { limits.diskBytes = try ByteSize.parse(disk) }
        try limits.validate()
        let sandbox = configuration.sandboxConfiguration(allowUnsafeProcessBackend: unsafeNoSandbox)
        if configuration.sandboxBackend == .process && !unsafeNoSandbox { throw .unsafeBackendRefused }
        let workspaceURL = URL(fileURLWithPath: workspace ?? FileManager.default.currentDirectoryPath, isDirectory: true)
            .standardizedFileURL
        return (configuration, sandbox, limits, workspaceURL)
    }
}

extension SandboxBackendKind: ExpressibleByArgument {}
extension SandboxMode: ExpressibleByArgument {}
