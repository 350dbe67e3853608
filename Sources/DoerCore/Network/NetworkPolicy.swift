/// How much of the network a run reaches (SANDBOX.md "Network policy"). Every level but
/// `none` goes through Doer's egress proxy on the host; the sandbox itself never gets a
/// network interface other than its own loopback.
public enum NetworkAccess: String, Sendable, Codable, CaseIterable {
    /// No network at all (the default).
    case none
    /// The package registries this host's own package clients are configured to use, read
    /// when the run starts, plus the hosts the policy adds.
    case registries
    /// Only the hosts the policy lists.
    case allowlist
    /// Any public address. Private, loopback, link-local and metadata addresses and the
    /// host's own addresses stay refused; the run is marked loudly in its warnings.
    case full
}

/// A run's network policy: the access level and the host patterns it adds.
///
/// Patterns are host names (`example.org`, matched exactly, case and a trailing dot
/// ignored), wildcards (`*.example.org`, any name below it but not the name itself) or IP
/// literals (`192.0.2.7`, `[2001:db8::1]`).
public struct NetworkPolicy: Sendable, Hashable, Codable {
    public var access: NetworkAccess
    /// In `allowlist` the whole list; in `registries` added to the discovered registries;
    /// unused by `none` and `full`.
    public var allowedHosts: [String]

    public init(access: NetworkAccess, allowedHosts: [String] = []) {
        self.access = access
        self.allowedHosts = allowedHosts
    }

    public static let none = NetworkPolicy(access: .none)
    public static func registries(adding hosts: [String] = []) -> NetworkPolicy { NetworkPolicy(access: .registries, allowedHosts: hosts) }
    public static func allowlist(_ hosts: [String]) -> NetworkPolicy { NetworkPolicy(access: .allowlist, allowedHosts: hosts) }
    public static let full = NetworkPolicy(access: .full)

    /// Whether the run reaches anything beyond its own loopback.
    public var usesProxy: Bool { access != .none }
}

extension NetworkPolicy: CustomStringConvertible {
    /// `registries plus pypi.example`, `allowlist: a.org, *.b.org`, for approvals and logs.
    public var description: String {
        switch access {
        case .none, .full: access.rawValue
        case .registries: allowedHosts.isEmpty ? "this host's package registries" : "this host's package registries plus " + allowedHosts.joined(separator: ", ")
        case .allowlist: "only " + allowedHosts.joined(separator: ", ")
        }
    }
}
