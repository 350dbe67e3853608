import ArgumentParser
import DoerConfig
import DoerCore
import DoerSandbox
import Foundation

/// Options every command that runs code shares.
struct SandboxOptions: ParsableArguments {
    @Option(name: .long, help: "Sandbox backend: bubblewrap (default), gvisor, or process (no isolation).")
    var backend: SandboxBackendKind?

    @Option(name: .long, help: "Wall-clock limit in seconds; the whole process tree is killed after it.")
    var timeout: Double?

    @Option(name: .long, help: "Memory limit for the whole run, e.g. 512m or 2g.")
    var memory: String?

    @Option(name: .long, help: "The workspace folder the command sees at /workspace (default: the current folder).")
    var workspace: String?

    @Option(name: .long, help: "What the run may do to the workspace: read-only, workspace-write (default), full-access.")
    var mode: SandboxMode = .workspaceWrite

    @Flag(name: .long, help: "Run changes on a copy and throw them away instead of applying them.")
    var discardChanges = false

    @Option(name: .customLong("net"), help: ArgumentHelp(
        "Network policy: none (default), registries (this host's package registries), allowlist (only --allow and [network] allow), full (any public address; loud).",
        valueName: "policy"))
    var network: NetworkAccess = .none

    @Option(name: .customLong("allow"), help: ArgumentHelp(
        "A host the run may reach through the proxy (example.org, *.example.org, an IP); repeatable. Adds to --net registries, makes up --net allowlist.",
        valueName: "host"))
    var allowedHosts: [String] = []

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
        if !allowedHosts.isEmpty && (network == .none || network == .full) {
            throw ValidationError("--allow needs --net allowlist or --net registries")
        }
        for host in allowedHosts {
            do { _ = try HostPattern(parsing: host) } catch { throw ValidationError("--allow: \(error.description)") }
        }
        if backend == .process && !unsafeNoSandbox {
            throw ValidationError(DoerError.unsafeBackendRefused.description)
        }
    }

    /// The network policy of the flags and `[network]` in config.toml.
    func networkPolicy(_ configuration: DoerConfiguration) throws(DoerError) -> NetworkPolicy {
        let policy: NetworkPolicy
        switch network {
        case .none: policy = .none
        case .full: policy = .full
        case .registries: policy = .registries(adding: configuration.networkRegistries + allowedHosts)
        case .allowlist:
            let hosts = configuration.networkAllow + allowedHosts
            if hosts.isEmpty {
                throw .invalidArgument("--net allowlist needs hosts: give --allow HOST or [network] allow = [\"HOST\"] in config.toml")
            }
            policy = .allowlist(hosts)
        }
        _ = try HostAllowlist(parsing: policy.allowedHosts)
        return policy
    }

    /// `--net full` is said out loud before the run starts, not only in the result.
    func announce(_ policy: NetworkPolicy) {
        guard policy.access == .full else { return }
        FileHandle.standardError.write(Data(
            "doer: warning: --net full: the sandboxed command can reach any public internet address through Doer's proxy (private, loopback and metadata addresses stay refused)\n".utf8))
    }

    /// The configuration with these flags on top.
    func resolve() throws(DoerError) -> (DoerConfiguration, SandboxConfiguration, ResourceLimits, URL) {
        var configuration = try DoerConfiguration.load()
        if let backend { configuration.sandboxBackend = backend }
        var limits = configuration.limits
        if let timeout { limits.wallClockSeconds = timeout }
        if let memory { limits.memoryBytes = try ByteSize.parse(memory) }
        try limits.validate()
        let sandbox = SandboxConfiguration(
            backend: configuration.sandboxBackend,
            unprivilegedUID: configuration.unprivilegedUID,
            unprivilegedGID: configuration.unprivilegedGID,
            stagingRoot: configuration.stagingDirectory.map { URL(fileURLWithPath: $0, isDirectory: true) },
            warmPoolSize: configuration.warmPoolSize,
            allowUnsafeProcessBackend: unsafeNoSandbox)
        if configuration.sandboxBackend == .process && !unsafeNoSandbox { throw .unsafeBackendRefused }
        let workspaceURL = URL(fileURLWithPath: workspace ?? FileManager.default.currentDirectoryPath, isDirectory: true)
            .standardizedFileURL
        return (configuration, sandbox, limits, workspaceURL)
    }
}

extension SandboxBackendKind: ExpressibleByArgument {}
extension SandboxMode: ExpressibleByArgument {}
extension NetworkAccess: ExpressibleByArgument {}
