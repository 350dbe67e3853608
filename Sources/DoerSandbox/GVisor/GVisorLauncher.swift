import DoerCore
import Foundation

/// The hardened tier: gVisor's user-space kernel (`runsc do`), no network, ptrace
/// platform (the only one that works on these kernels). runsc starts the command itself,
/// so there is no warm pool; the host enforces the time limit.
struct GVisorLauncher: SandboxLauncher {
    let configuration: SandboxConfiguration
    var runscPath: String? = HostTools.find("runsc")

    var kind: SandboxBackendKind { .gvisor }
    var usesInitProtocol: Bool { false }

    func checkAvailable() throws(DoerError) {
        guard runscPath != nil else {
            throw .backendUnavailable(backend: "gvisor", reason: "runsc is not installed",
                                      remedy: "Install the Debian package 'runsc' (apt-get install runsc).")
        }
        guard geteuid() == 0 else {
            throw .backendUnavailable(backend: "gvisor", reason: "runsc do needs root on this machine",
                                      remedy: "Run Doer as root for the gVisor backend, or use bubblewrap.")
        }
    }

    func spawnSpec(shape: SandboxShape, workspaceSource: String, command: [String], environment: [String],
                   workingDirectory: String, proxySocket: String?) throws(DoerError) -> SpawnSpec {
        try checkAvailable()
        let stateDir = configuration.stagingRoot.appendingPathComponent("runsc").path
        _ = mkdir(stateDir, 0o700)
        return SpawnSpec(
            executable: runscPath!,
            arguments: Self.arguments(stateDir: stateDir, workingDirectory: workingDirectory, command: command),
            environment: environment, identity: nil, controlChannel: false)
    }

    /// `do` shows the host's files read-only under a private writable overlay; the
    /// overlay is thrown away, so workspace writes are not collected on this backend.
    static func arguments(stateDir: String, workingDirectory: String, command: [String]) -> [String] {
        ["--root", stateDir, "--network=none", "--platform=ptrace", "do", "-quiet",
         "-cwd", workingDirectory, "--"] + command
    }

    func workspacePath(workspaceSource: String) -> String { workspaceSource }
}
