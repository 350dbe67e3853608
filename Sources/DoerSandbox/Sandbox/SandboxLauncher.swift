import DoerCore
import Foundation

/// What differs between backends: how a sandbox process is started and where the
/// workspace appears inside it. The shared engine does the rest.
protocol SandboxLauncher: Sendable {
    var kind: SandboxBackendKind { get }
    /// Whether the spawned process is doer-sandbox-init waiting for a request (which is
    /// what makes warm sandboxes possible); otherwise the command is in the spawn itself.
    var usesInitProtocol: Bool { get }
    /// Whether the launcher checks the machine can do this at all; throws why not.
    func checkAvailable() throws(DoerError)
    func spawnSpec(shape: SandboxShape, workspaceSource: String, command: [String], environment: [String],
                   workingDirectory: String, proxySocket: String?) throws(DoerError) -> SpawnSpec
    /// The workspace's path as the command sees it.
    func workspacePath(workspaceSource: String) -> String
}
