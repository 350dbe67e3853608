import DoerCore
import Foundation

/// The default backend: bubblewrap namespaces as an unprivileged uid, with
/// doer-sandbox-init installing seccomp and limits inside (SANDBOX.md).
struct BubblewrapLauncher: SandboxLauncher {
    let configuration: SandboxConfiguration
    var bwrapPath: String?
    let support: SandboxSupportFiles?
    let supportError: DoerError?
    let etc: StagedEtc?
    let rootLinks = BubblewrapArguments.hostRootLinks()

    var kind: SandboxBackendKind { .bubblewrap }
    var usesInitProtocol: Bool { true }

    init(configuration: SandboxConfiguration) {
        self.configuration = configuration
        bwrapPath = HostTools.find("bwrap")
        do {
            support = try SandboxSupportFiles.prepare(configuration: configuration)
            supportError = nil
        } catch {
            support = nil
            supportError = error
        }
        let identity = configuration.runIdentity
        etc = support == nil ? nil : StagedEtc(
            stagingRoot: configuration.stagingRoot.path, name: "etc-\(identity.uid)-\(identity.gid)",
            extraFiles: ["passwd": SandboxSupportFiles.passwdText(uid: identity.uid, gid: identity.gid),
                         "group": SandboxSupportFiles.groupText(gid: identity.gid)])
    }

    func checkAvailable() throws(DoerError) {
        guard bwrapPath != nil else {
            throw .backendUnavailable(backend: "bubblewrap", reason: "bwrap is not installed",
                                      remedy: "Install the Debian package 'bubblewrap' (apt-get install bubblewrap).")
        }
        if let supportError { throw supportError }
    }

    func spawnSpec(shape: SandboxShape, workspaceSource: String, command: [String], environment: [String],
                   workingDirectory: String, proxySocket: String?) throws(DoerError) -> SpawnSpec {
        try checkAvailable()
        let identity = configuration.runIdentity
        // A toolchain's own folder under /etc (Java's, PHP's...) needs a mount point inside
        // /etc, which the read-only copy cannot take: those shapes bind file by file.
        let underEtc = (shape.readOnlyPaths + shape.writablePaths).contains { $0 == "/etc" || $0.hasPrefix("/etc/") }
        // A copy that cannot be renewed (a full disk) costs speed, not the run: bind the host's files.
        let etcDirectory = underEtc ? nil : (try? etc?.directory()) ?? nil
        var arguments = BubblewrapArguments(
            workspaceSource: workspaceSource, workspaceWritable: shape.mode != .readOnly,
            initHelper: support!.initHelper, passwdFile: support!.passwd, groupFile: support!.group,
            tmpSizeBytes: shape.tmpSizeBytes, uid: identity.uid, gid: identity.gid,
            rootLinks: rootLinks, readOnlyPaths: shape.readOnlyPaths, writablePaths: shape.writablePaths,
            proxySocket: proxySocket, etcDirectory: etcDirectory)
        arguments.readOnlyWorkspaceFolders = shape.protectedFolders
        return SpawnSpec(executable: bwrapPath!, arguments: arguments.arguments,
                         identity: identity.switches ? (identity.uid, identity.gid) : nil,
                         controlChannel: true)
    }

    func workspacePath(workspaceSource: String) -> String { BubblewrapArguments.workspaceMount }
}

enum HostTools {
    /// Looks a program up on the usual system paths (not the caller's PATH, which may
    /// point into a home folder the sandbox uid cannot read).
    static func find(_ name: String) -> String? {
        for dir in ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"] {
            let path = dir + "/" + name
            if access(path, X_OK) == 0 { return path }
        }
        return nil
    }
}
