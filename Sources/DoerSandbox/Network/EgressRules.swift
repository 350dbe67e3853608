public import DoerCore

/// What the egress proxy lets through, decided on the host name before any DNS lookup.
public struct EgressRules: Sendable, Hashable {
    public var access: NetworkAccess
    public var allowlist: HostAllowlist

    public init(access: NetworkAccess, allowlist: HostAllowlist) {
        self.access = access
        self.allowlist = allowlist
    }

    public enum Verdict: Sendable, Hashable {
        case allowed(NetworkDecision.Reason)
        case refused(String)
    }

    public func evaluate(host: String) -> Verdict {
        switch access {
        case .none:
            return .refused("the run has no network (policy none)")
        case .full:
            return .allowed(.anyPublicHost)
        case .registries, .allowlist:
            if allowlist.allows(host) { return .allowed(.hostAllowed) }
            let remedy = access == .registries
                ? "it is not one of this host's package registries; add it with --allow \(host) or [network] registries in config.toml"
                : "add it with --allow \(host) or [network] allow in config.toml"
            return .refused("\(host) is not allowed by the network policy (\(access.rawValue)): \(remedy)")
        }
    }
}

/// Per-run bounds of the egress proxy.
public struct ProxyLimits: Sendable, Hashable {
    /// Connections open at once.
    public var maxConcurrentConnections: Int
    /// Connections over the whole run.
    public var maxConnections: Int
    /// Bytes relayed over the whole run, both directions together.
    public var maxBytes: Int64
    /// Time a client has to send a complete request head (slowloris).
    public var headerTimeoutSeconds: Double
    /// Size of a request head.
    public var maxHeaderBytes: Int
    public var connectTimeoutSeconds: Double
    /// A relayed connection with no traffic either way for this long is closed.
    public var idleTimeoutSeconds: Double

    public init(maxConcurrentConnections: Int = 64, maxConnections: Int = 4096, maxBytes: Int64 = 4 << 30,
                headerTimeoutSeconds: Double = 10, maxHeaderBytes: Int = 32 << 10,
                connectTimeoutSeconds: Double = 15, idleTimeoutSeconds: Double = 300) {
        self.maxConcurrentConnections = maxConcurrentConnections
        self.maxConnections = maxConnections
        self.maxBytes = maxBytes
        self.headerTimeoutSeconds = headerTimeoutSeconds
        self.maxHeaderBytes = maxHeaderBytes
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }
}
