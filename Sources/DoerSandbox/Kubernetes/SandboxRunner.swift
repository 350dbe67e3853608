import DoerCore
import Foundation

/// What doer-sandbox-runner does with one run request inside a sandbox pod: it writes the
/// workspace it was sent, runs the command under doer-sandbox-init with the request's limits
/// (the `process` launcher: the pod and its RuntimeClass are the isolation, the init gives the
/// wall clock, rlimits, the whole-tree kill and the exit status), and reads back what changed.
struct SandboxRunner: Sendable {
    let workspace: URL
    let configuration: SandboxConfiguration
    /// The most the workspace sent in and the changes sent back may hold.
    static let transferLimitBytes: Int64 = 512 << 20

    /// - Parameter runAs: the ids the command runs as when the runner is root.
    init(workspace: URL, stagingRoot: URL, initHelperPath: String?, runAs: (uid: UInt32, gid: UInt32) = (65534, 65534)) {
        self.workspace = workspace
        configuration = SandboxConfiguration(backend: .process, unprivilegedUID: runAs.uid, unprivilegedGID: runAs.gid,
                                             stagingRoot: stagingRoot, allowUnsafeProcessBackend: true, initHelperPath: initHelperPath)
    }

    func run(_ request: RunnerRequest) async throws(DoerError) -> RunnerResponse {
        try WorkspaceTransfer.write(request.files, deleting: [], into: workspace.path)
        var limits = request.limits
        // The pod's memory limit holds the whole run; there is no cgroup of its own to make here.
        limits.memoryBytes = nil
        let sandbox = try SandboxFactory(configuration: configuration).make(.process)
        let result = try await sandbox.run(ExecutionRequest(
            command: request.command, workspace: workspace, workingSubdirectory: request.workingSubdirectory,
            environment: request.environment, stdin: request.stdin, limits: limits, mode: .workspaceWrite,
            network: .none, applyChanges: true))
        guard result.changesApplied else { return RunnerResponse(result: result, changed: [], deleted: []) }
        let deleted = result.changedFiles.filter { $0.kind == .deleted }.map(\.path)
        let changed = try WorkspaceTransfer.read(result.changedFiles.filter { $0.kind != .deleted }.map(\.path),
                                                 from: workspace.path, limitBytes: Self.transferLimitBytes)
        return RunnerResponse(result: result, changed: changed, deleted: deleted)
    }
}
