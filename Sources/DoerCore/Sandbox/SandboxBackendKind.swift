/// The isolation technologies Doer can run code under, strongest last.
public enum SandboxBackendKind: String, Sendable, Codable, CaseIterable {
    /// No isolation at all; refused unless the user explicitly allows it.
    case process
    /// Linux namespaces, seccomp, cgroups (the default).
    case bubblewrap
    /// gVisor's user-space kernel: the hardened tier.
    case gvisor
    /// A pod per run on a Kubernetes cluster, under a RuntimeClass (gVisor by default).
    case kubernetes
}

/// What a run may do to the workspace (DESIGN.md "Policy and approvals").
public enum SandboxMode: String, Sendable, Codable, CaseIterable {
    case readOnly = "read-only"
    case workspaceWrite = "workspace-write"
    case fullAccess = "full-access"
}
