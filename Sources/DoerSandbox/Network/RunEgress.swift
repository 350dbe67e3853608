import DoerCore
import Foundation

/// The network side of one sandboxed run with a proxy policy: the rules built from the
/// policy (and, for `registries`, the registries discovered now), the egress proxy on
/// its own socket, and the environment that points the run's clients at the bridge.
final class RunEgress: Sendable {
    let proxy: EgressProxy
    let directory: String
    let environment: [String: String]
    let warnings: [String]

    /// Where the bridge listens inside the sandbox (DOER_PROXY_PORT).
    static let bridgeURL = "http://127.0.0.1:3128"
    static let socksURL = "socks5h://127.0.0.1:3128"

    private init(proxy: EgressProxy, directory: String, environment: [String: String], warnings: [String]) {
        self.proxy = proxy
        self.directory = directory
        self.environment = environment
        self.warnings = warnings
    }

    var socketPath: String { proxy.socketPath }

    static func start(policy: NetworkPolicy, stagingRoot: URL, owner: (uid: UInt32, gid: UInt32)?,
                      discovery: RegistryDiscovery = RegistryDiscovery(), limits: ProxyLimits = ProxyLimits(),
                      observer: NetworkDecisionObserver? = nil) async throws(DoerError) -> RunEgress {
        let discovered = discovery.discover()
        let rules = try rules(for: policy, discovered: discovered)
        var warnings: [String] = []
        switch policy.access {
        case .full:
            warnings.append("full network: this run could reach any public internet address (loopback, private, link-local and metadata addresses and this host's own addresses stay refused)")
        case .registries where rules.allowlist.patterns.isEmpty:
            warnings.append("network registries: no package registry was found in this host's pip or apt configuration, so nothing is reachable; add some with [network] registries in config.toml or --allow")
        default:
            break
        }
        try WorkspaceView.ensureStagingRoot(stagingRoot)
        let directory = stagingRoot.appendingPathComponent("net-\(UUID().uuidString.lowercased())", isDirectory: true).path
        guard mkdir(directory, 0o711) == 0 else {
            throw .sandboxFailure("cannot create \(directory) for the network proxy: \(String(cString: strerror(errno)))")
        }
        let proxy: EgressProxy
        do {
            proxy = try await EgressProxy.start(socketPath: directory + "/proxy.sock", rules: rules, limits: limits, owner: owner,
                                                onDecision: observer?.handle)
        } catch {
            rmdir(directory)
            throw error
        }
        return RunEgress(proxy: proxy, directory: directory,
                         environment: Self.environment(pip: discovered.pipEnvironment), warnings: warnings)
    }

    /// The allowlist a policy stands for. `registries` adds the discovered registry hosts
    /// (exactly those names, no wildcards) to the policy's own patterns.
    static func rules(for policy: NetworkPolicy, discovered: RegistryDiscovery.Result) throws(DoerError) -> EgressRules {
        var patterns = try HostAllowlist(parsing: policy.allowedHosts).patterns
        if policy.access == .registries {
            for host in discovered.hosts {
                if let pattern = try? HostPattern(parsing: host), !patterns.contains(pattern) { patterns.append(pattern) }
            }
        }
        return EgressRules(access: policy.access, allowlist: HostAllowlist(patterns))
    }

    /// The usual proxy variables in both spellings, so pip, curl, git, npm and friends use
    /// the bridge, plus pip's index settings from the host.
    static func environment(pip: [String: String]) -> [String: String] {
        var variables: [String: String] = [:]
        for name in ["HTTP_PROXY", "HTTPS_PROXY"] {
            variables[name] = bridgeURL
            variables[name.lowercased()] = bridgeURL
        }
        // The same port speaks SOCKS5; `socks5h` has the proxy resolve names, since the
        // sandbox has no DNS of its own.
        variables["ALL_PROXY"] = socksURL
        variables["all_proxy"] = socksURL
        variables["NO_PROXY"] = "localhost,127.0.0.1,::1"
        variables["no_proxy"] = variables["NO_PROXY"]
        variables["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        variables.merge(pip) { _, new in new }
        return variables
    }

    /// Stops the proxy once the run is over and returns every decision it made.
    func finish() async -> [NetworkDecision] {
        await proxy.shutdown()
        rmdir(directory)
        return proxy.recordedDecisions
    }
}
