import ArgumentParser
import DoerConfig
import DoerCore
import DoerSandbox
import Foundation

/// `--net` and `--allow`: what sandboxed commands may reach, shared by every command that
/// runs code (`run`, `sandbox`, and the agent's `exec` and `chat`).
struct NetworkOptions: ParsableArguments {
    @Option(name: .customLong("net"), help: ArgumentHelp(
        "Network policy: none (default), registries (this host's package registries), allowlist (only --allow and [network] allow), full (any public address; loud).",
        valueName: "policy"))
    var network: NetworkAccess = .none

    @Option(name: .customLong("allow"), help: ArgumentHelp(
        "A host the run may reach through the proxy (example.org, *.example.org, an IP); repeatable. Adds to --net registries, makes up --net allowlist.",
        valueName: "host"))
    var allowedHosts: [String] = []

    func validate() throws {
        if !allowedHosts.isEmpty && (network == .none || network == .full) {
            throw ValidationError("--allow needs --net allowlist or --net registries")
        }
        for host in allowedHosts {
            do { _ = try HostPattern(parsing: host) } catch { throw ValidationError("--allow: \(error.description)") }
        }
    }

    /// The network policy of the flags and `[network]` in config.toml.
    func policy(_ configuration: DoerConfiguration) throws(DoerError) -> NetworkPolicy {
        try configuration.networkPolicy(network, adding: allowedHosts)
    }

    /// `--net full` is said out loud before the run starts, not only in the result.
    static func announce(_ policy: NetworkPolicy) { NetworkOptions().announce(policy) }

    func announce(_ policy: NetworkPolicy) {
        guard policy.access == .full else { return }
        FileHandle.standardError.write(Data(
            "doer: warning: --net full: the sandboxed command can reach any public internet address through Doer's proxy (private, loopback and metadata addresses and this host's own addresses stay refused)\n".utf8))
    }
}

extension NetworkAccess: ExpressibleByArgument {}
