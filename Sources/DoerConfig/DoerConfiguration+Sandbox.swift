public import DoerCore
public import DoerSandbox
import Foundation

extension DoerConfiguration {
    /// The sandbox settings this configuration describes: the one mapping from
    /// `[sandbox]` to `SandboxConfiguration`, so every frontend stages views, caches and
    /// runs under the same folder and uid.
    public func sandboxConfiguration(allowUnsafeProcessBackend: Bool = false) -> SandboxConfiguration {
        SandboxConfiguration(
            backend: sandboxBackend, unprivilegedUID: unprivilegedUID, unprivilegedGID: unprivilegedGID,
            stagingRoot: stagingDirectory.map { URL(fileURLWithPath: $0, isDirectory: true) },
            warmPoolSize: warmPoolSize, runsPerSandbox: runsPerSandbox, allowUnsafeProcessBackend: allowUnsafeProcessBackend, kubernetes: kubernetes)
    }

    /// What a run may reach for `access`, with `[network]`'s hosts and `extraHosts` (the
    /// command line's `--allow`) added.
    public func networkPolicy(_ access: NetworkAccess, adding extraHosts: [String] = []) throws(DoerError) -> NetworkPolicy {
        let policy: NetworkPolicy
        switch access {
        case .none: policy = .none
        case .full: policy = .full
        case .registries: policy = .registries(adding: networkRegistries + extraHosts)
        case .allowlist:
            let hosts = networkAllow + extraHosts
            if hosts.isEmpty {
                throw .invalidArgument("--net allowlist needs hosts: give --allow HOST or [network] allow = [\"HOST\"] in config.toml")
            }
            policy = .allowlist(hosts)
        }
        // Every pattern must parse now, not when the first connection is tried.
        _ = try HostAllowlist(parsing: policy.allowedHosts)
        return policy
    }
}
