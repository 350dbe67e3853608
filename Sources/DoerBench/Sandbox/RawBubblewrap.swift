public import DoerCore
public import DoerSandbox
public import Foundation

/// The yardstick for Doer's sandbox: bwrap with the namespaces and mounts Doer gives a run
/// (the same `BubblewrapArguments`, the host's /etc files bound one by one), run as the same
/// uid, starting the command directly. What it leaves out is Doer's own work: the init
/// helper and its seccomp filter and limits, the control channel, the staged /etc, the
/// workspace view, output capture.
public struct RawBubblewrap: Sendable {
    public let bwrap: String
    public let workspace: URL
    public let identity: (uid: UInt32, gid: UInt32)?
    let uid: UInt32
    let gid: UInt32

    public init(configuration: SandboxConfiguration, workspace: URL) throws(DoerError) {
        guard let bwrap = ["/usr/bin", "/usr/sbin", "/bin", "/usr/local/bin"].map({ $0 + "/bwrap" })
            .first(where: { access($0, X_OK) == 0 }) else {
            throw .backendUnavailable(backend: "bubblewrap", reason: "bwrap is not installed",
                                      remedy: "Install the Debian package 'bubblewrap' (apt-get install bubblewrap).")
        }
        let runAs = configuration.runIdentity
        self.bwrap = bwrap
        self.workspace = workspace
        self.uid = runAs.uid
        self.gid = runAs.gid
        self.identity = runAs.switches ? (runAs.uid, runAs.gid) : nil
    }

    /// The whole command line: bwrap, its arguments, then `command` inside the sandbox.
    public func commandLine(_ command: [String]) -> [String] {
        let arguments = BubblewrapArguments(
            workspaceSource: workspace.path, workspaceWritable: true, initHelper: "", passwdFile: nil, groupFile: nil,
            tmpSizeBytes: ResourceLimits().tmpSizeBytes, uid: uid, gid: gid, rootLinks: BubblewrapArguments.hostRootLinks(),
            readOnlyPaths: []).arguments
        var raw: [String] = []
        var index = 0
        // Doer's init helper is bound and started last; here the command starts instead.
        while index < arguments.count {
            if arguments[index] == "--ro-bind", index + 2 < arguments.count, arguments[index + 2] == BubblewrapArguments.initMount {
                index += 3
                continue
            }
            if arguments[index] == "--" { break }
            raw.append(arguments[index])
            index += 1
        }
        return [bwrap] + raw + ["--"] + command
    }

    /// A shell script that runs the command line, as a person measuring bwrap by hand would.
    public func script(_ command: [String]) -> String {
        "#!/bin/sh\nexec " + commandLine(command).map(Self.quoted).joined(separator: " ") + "\n"
    }

    static func quoted(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
