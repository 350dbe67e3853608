public import Foundation
public import DoerCore

/// Settings shared by every backend, normally read from `[sandbox]` in config.toml.
public struct SandboxConfiguration: Sendable, Hashable {
    public var backend: SandboxBackendKind
    /// Host uid/gid the sandbox runs as when Doer itself runs as root.
    public var unprivilegedUID: UInt32
    public var unprivilegedGID: UInt32
    /// Host folder for per-run workspace views; it must be reachable by that uid.
    public var stagingRoot: URL
    /// Sandboxes kept ready per workspace shape.
    public var warmPoolSize: Int
    /// Runs one bubblewrap sandbox may serve, reset between them (processes ended; `/tmp`,
    /// `/dev/shm`, `/dev`, IPC objects, the workspace view and the memory peak as at the
    /// start), for runs of the same shape; 1 starts a sandbox for every run.
    public var runsPerSandbox: Int
    /// Allow the `process` backend, which isolates nothing.
    public var allowUnsafeProcessBackend: Bool
    /// Path of doer-sandbox-init; found next to the running executable when nil.
    public var initHelperPath: String?
    /// Told of each egress decision of runs with a network policy, as it is made (the
    /// result's `networkDecisions` holds them all once the run is over).
    public var networkObserver: NetworkDecisionObserver?
    /// Where the `kubernetes` backend starts its pods (`[sandbox.kubernetes]`).
    public var kubernetes: KubernetesSettings

    public init(
        backend: SandboxBackendKind = .bubblewrap,
        unprivilegedUID: UInt32 = 65534,
        unprivilegedGID: UInt32 = 65534,
        stagingRoot: URL? = nil,
        warmPoolSize: Int = 0,
        runsPerSandbox: Int = SandboxConfiguration.defaultRunsPerSandbox,
        allowUnsafeProcessBackend: Bool = false,
        initHelperPath: String? = nil,
        networkObserver: NetworkDecisionObserver? = nil,
        kubernetes: KubernetesSettings = KubernetesSettings()
    ) {
        self.backend = backend
        self.unprivilegedUID = unprivilegedUID
        self.unprivilegedGID = unprivilegedGID
        self.stagingRoot = stagingRoot ?? URL(fileURLWithPath: "/tmp/doer-sandbox-\(getuid())", isDirectory: true)
        self.warmPoolSize = warmPoolSize
        self.runsPerSandbox = max(1, runsPerSandbox)
        self.allowUnsafeProcessBackend = allowUnsafeProcessBackend
        self.initHelperPath = initHelperPath
        self.networkObserver = networkObserver
        self.kubernetes = kubernetes
    }

    public static let defaultRunsPerSandbox = 32

    /// The identity runs take on the host: Doer's own when it is not root (it has nothing
    /// to drop), the configured unprivileged one when it is.
    /// Whether sandboxes run as a uid of their own: only when Doer runs as root.
    public static var switchesIdentity: Bool { geteuid() == 0 }

    public var runIdentity: (uid: UInt32, gid: UInt32, switches: Bool) {
        if Self.switchesIdentity { return (unprivilegedUID, unprivilegedGID, true) }
        return (getuid(), getgid(), false)
    }
}
