import DoerCore
import Foundation

/// Everything about a sandbox that must be fixed before it starts (mounts, cgroup limits).
/// Runs with the same shape can use the same warm sandboxes.
struct SandboxShape: Sendable, Hashable {
    var workspace: String
    var mode: SandboxMode
    var readOnlyPaths: [String]
    var writablePaths: [String]
    var tmpSizeBytes: Int64
    var memoryBytes: Int64?
    var processes: Int?
    /// The view's tmpfs is sealed at this limit (`WorkspaceView.sealDiskLimit`).
    var diskBytes: Int64?
    var network: NetworkPolicy
    /// The workspace's protected folders (`ProtectedPaths`) at its top level, mounted
    /// read-only inside the sandbox; part of the shape because mounts are fixed at start.
    var protectedFolders: [String]

    init(_ request: ExecutionRequest) {
        workspace = request.workspace.standardizedFileURL.path
        mode = request.mode
        readOnlyPaths = request.readOnlyPaths
        writablePaths = request.writablePaths
        tmpSizeBytes = request.limits.tmpSizeBytes
        memoryBytes = request.limits.memoryBytes
        processes = request.limits.processes
        diskBytes = request.limits.diskBytes
        network = request.network
        protectedFolders = Self.protectedFolders(in: workspace)
    }

    /// Real folders only: a link named `.git` is copied as a link and never mounted.
    static func protectedFolders(in workspace: String) -> [String] {
        ProtectedPaths.names.sorted().filter { name in
            var info = stat()
            return lstat(workspace + "/" + name, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
        }
    }
}

/// A sandbox that has been started and waits in doer-sandbox-init for its command.
final class PreparedSandbox: @unchecked Sendable {
    let process: SpawnedProcess
    let view: WorkspaceView?
    let cgroup: RunCgroup?
    let warnings: [String]
    /// Runs this sandbox has served; one run at a time uses it.
    var runsServed = 0
    /// The host paths bound into the sandbox (writable caches, read-only toolchains) as they
    /// were when it started: one removed and made again since (a cache cleared) is not the
    /// folder the sandbox has mounted, so the sandbox no longer fits its shape.
    private let boundPaths: [String: WorkspaceIdentity?]

    init(process: SpawnedProcess, view: WorkspaceView?, cgroup: RunCgroup?, warnings: [String], boundPaths: [String] = []) {
        self.process = process
        self.view = view
        self.cgroup = cgroup
        self.warnings = warnings
        self.boundPaths = Dictionary(boundPaths.map { ($0, WorkspaceIdentity(path: $0)) }, uniquingKeysWith: { first, _ in first })
    }

    /// Whether every bound path is still the one the sandbox mounted.
    var boundPathsUnchanged: Bool {
        boundPaths.allSatisfy { path, identity in WorkspaceIdentity(path: path) == identity }
    }

    /// Waits for doer-sandbox-init's "ready" byte; false if the sandbox died instead.
    /// Only the warm pool waits: a cold run sends its request at once and lets the
    /// sandbox read it when it gets there.
    func waitUntilReady(timeoutMs: Int32) -> Bool {
        var entry = pollfd(fd: process.controlFD, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, timeoutMs) == 1 else { return false }
        var byte: UInt8 = 0
        return read(process.controlFD, &byte, 1) == 1 && byte == UInt8(ascii: "R")
    }

    /// Ends a sandbox that will never run anything (again). Its processes are gone when this
    /// returns; its view and cgroup go on the clean-up queue, since the kernel tears the
    /// sandbox's pid namespace down after bwrap has died and the cgroup cannot be removed
    /// before.
    func destroy() {
        process.kill()
        _ = process.reap()
        process.closeAll()
        let view = view, cgroup = cgroup
        SandboxEngine.cleanUp {
            view?.discard()
            cgroup?.remove()
        }
    }
}
