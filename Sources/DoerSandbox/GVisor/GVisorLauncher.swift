import DoerCore
import Foundation

/// The hardened tier: gVisor's user-space kernel (`runsc run` on an OCI bundle), no
/// network, ptrace platform (the only one that works on these kernels). The command sees
/// what bubblewrap's would (`GVisorBundle`), as the same unprivileged uid, and writes the
/// same workspace view, so its changes are collected, reviewed and held to the disk limit
/// like bubblewrap's. runsc stays in the run's cgroup (`--ignore-cgroups`: it would make
/// its own otherwise), so the memory and process limits hold for the whole sandbox, its
/// kernel included. runsc starts the command itself, so there is no warm pool; the host
/// enforces the time limit, and killing runsc takes the sandbox with it.
struct GVisorLauncher: SandboxLauncher {
    let configuration: SandboxConfiguration
    var runscPath: String? = HostTools.find("runsc")
    let etc: StagedEtc?
    let rootLinks = BubblewrapArguments.hostRootLinks()

    var kind: SandboxBackendKind { .gvisor }
    var usesInitProtocol: Bool { false }

    init(configuration: SandboxConfiguration) {
        self.configuration = configuration
        let identity = configuration.runIdentity
        try? WorkspaceView.ensureStagingRoot(configuration.stagingRoot)
        etc = StagedEtc(stagingRoot: configuration.stagingRoot.path, name: "etc-\(identity.uid)-\(identity.gid)",
                        extraFiles: ["passwd": SandboxSupportFiles.passwdText(uid: identity.uid, gid: identity.gid),
                                     "group": SandboxSupportFiles.groupText(gid: identity.gid)])
    }

    func checkAvailable() throws(DoerError) {
        guard runscPath != nil else {
            throw .backendUnavailable(backend: "gvisor", reason: "runsc is not installed",
                                      remedy: "Install the Debian package 'runsc' (apt-get install runsc).")
        }
        guard geteuid() == 0 else {
            throw .backendUnavailable(backend: "gvisor", reason: "runsc needs root on this machine",
                                      remedy: "Run Doer as root for the gVisor backend, or use bubblewrap.")
        }
        guard etc != nil else {
            throw .backendUnavailable(backend: "gvisor", reason: "the sandbox's /etc could not be staged under \(configuration.stagingRoot.path)",
                                      remedy: "Make the staging folder writable, or use bubblewrap.")
        }
    }

    func spawnSpec(shape: SandboxShape, workspaceSource: String, command: [String], environment: [String],
                   workingDirectory: String, proxySocket: String?) throws(DoerError) -> SpawnSpec {
        try checkAvailable()
        let folder = configuration.stagingRoot.appendingPathComponent("runsc").path
        let stateDir = folder + "/state"
        for path in [folder, stateDir] { _ = mkdir(path, 0o700) }
        // A run killed at its time limit leaves runsc's state files (2 KB) behind.
        GVisorBundle.removeStale(in: stateDir, olderThan: 86_400)
        let rootfs = try GVisorBundle.sharedRoot(in: folder, links: rootLinks)
        let identity = configuration.runIdentity
        // A toolchain's own folder under /etc needs a mount point inside the read-only copy:
        // those shapes get the host's /etc files bound one by one, as with bubblewrap.
        let underEtc = (shape.readOnlyPaths + shape.writablePaths).contains { $0 == "/etc" || $0.hasPrefix("/etc/") }
        var shape = shape
        if underEtc {
            shape.readOnlyPaths = BubblewrapArguments.etcFiles + shape.readOnlyPaths
        }
        let bundle = GVisorBundle(rootfs: rootfs, uid: identity.uid, gid: identity.gid, command: command, environment: environment,
                                  workingDirectory: workingDirectory, shape: shape, workspaceSource: workspaceSource,
                                  etcDirectory: underEtc ? nil : try etc?.directory(), workspaceMount: BubblewrapArguments.workspaceMount)
        let id = "doer-" + UUID().uuidString.lowercased()
        let path = try bundle.write(in: folder, id: id)
        return SpawnSpec(executable: runscPath!, arguments: Self.arguments(stateDir: stateDir, bundle: path, id: id),
                         environment: [], identity: nil, controlChannel: false)
    }

    static func arguments(stateDir: String, bundle: String, id: String) -> [String] {
        ["--root", stateDir, "--network=none", "--platform=ptrace", "--ignore-cgroups", "run", "--bundle", bundle, id]
    }

    func workspacePath(workspaceSource: String) -> String { BubblewrapArguments.workspaceMount }
}
