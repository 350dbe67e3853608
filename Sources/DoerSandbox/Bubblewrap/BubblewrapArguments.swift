import DoerCore
import Foundation

/// The exact bwrap command line for a sandbox shape. Pure, so tests can pin it.
public struct BubblewrapArguments: Sendable, Hashable {
    /// Where the workspace appears inside the sandbox.
    public static let workspaceMount = "/workspace"
    /// Where doer-sandbox-init appears inside the sandbox.
    public static let initMount = "/.doer/init"

    public var workspaceSource: String
    public var workspaceWritable: Bool
    public var initHelper: String
    public var passwdFile: String?
    public var groupFile: String?
    /// A folder holding the /etc entries and passwd and group (`StagedEtc`), bound as /etc in
    /// one mount; without it the host's entries and the two files are bound one by one.
    public var etcDirectory: String?
    public var tmpSizeBytes: Int64
    public var uid: UInt32
    public var gid: UInt32
    /// Top-level names of the host that are links into /usr on merged-/usr systems
    /// (name -> target), recreated as links; the others are bound read-only.
    public var rootLinks: [String: String]
    public var readOnlyPaths: [String]
    /// Bound read-write, after the read-only ones so a cache inside a toolchain folder stays writable.
    public var writablePaths: [String]
    /// The host's end of the egress proxy, bound at `proxySocketMount` for the bridge.
    /// The network namespace stays private and empty either way.
    public var proxySocket: String?
    /// Folders of the workspace (relative, e.g. `.git`) mounted read-only over the
    /// writable workspace: a run may read them but never change them (`ProtectedPaths`).
    public var readOnlyWorkspaceFolders: [String] = []

    /// Where the egress proxy's socket appears inside the sandbox (DOER_PROXY_SOCKET).
    public static let proxySocketMount = "/.doer/proxy.sock"

    public init(workspaceSource: String, workspaceWritable: Bool, initHelper: String, passwdFile: String?,
                groupFile: String?, tmpSizeBytes: Int64, uid: UInt32, gid: UInt32,
                rootLinks: [String: String], readOnlyPaths: [String], writablePaths: [String] = [],
                proxySocket: String? = nil, etcDirectory: String? = nil) {
        self.workspaceSource = workspaceSource
        self.workspaceWritable = workspaceWritable
        self.initHelper = initHelper
        self.passwdFile = passwdFile
        self.groupFile = groupFile
        self.tmpSizeBytes = tmpSizeBytes
        self.uid = uid
        self.gid = gid
        self.rootLinks = rootLinks
        self.readOnlyPaths = readOnlyPaths
        self.writablePaths = writablePaths
        self.proxySocket = proxySocket
        self.etcDirectory = etcDirectory
    }

    /// The /etc files programs need to run (dynamic linker cache, alternatives, time zone,
    /// certificates); nothing with secrets.
    public static let etcFiles = [
        "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
        "/etc/localtime", "/etc/nsswitch.conf", "/etc/ssl/certs", "/etc/ca-certificates",
        "/etc/mime.types",
    ]

    public var arguments: [String] {
        var args = [
            "--unshare-all", "--unshare-user", "--disable-userns",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv", "--as-pid-1",
            "--hostname", "doer-sandbox",
            "--uid", String(uid), "--gid", String(gid),
            "--ro-bind", "/usr", "/usr",
        ]
        for name in ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] {
            if let target = rootLinks[name] {
                args += ["--symlink", target, name]
            }
        }
        for name in ["/bin", "/sbin", "/lib", "/lib64"] where rootLinks[name] == nil {
            args += ["--ro-bind-try", name, name]
        }
        if let etcDirectory {
            args += ["--ro-bind", etcDirectory, "/etc"]
        } else {
            for file in Self.etcFiles {
                args += ["--ro-bind-try", file, file]
            }
            if let passwdFile { args += ["--ro-bind", passwdFile, "/etc/passwd"] }
            if let groupFile { args += ["--ro-bind", groupFile, "/etc/group"] }
        }
        args += [
            "--proc", "/proc",
            "--dev", "/dev",
            "--size", String(tmpSizeBytes), "--tmpfs", "/tmp",
            "--size", String(min(tmpSizeBytes, 64 << 20)), "--tmpfs", "/dev/shm",
        ]
        // After the private /tmp, so folders under the host's /tmp (the staging root, where
        // language caches live) are not hidden by it.
        for path in readOnlyPaths {
            args += ["--ro-bind-try", path, path]
        }
        for path in writablePaths {
            args += ["--bind", path, path]
        }
        args += [
            workspaceWritable ? "--bind" : "--ro-bind", workspaceSource, Self.workspaceMount,
        ]
        if workspaceWritable {
            for folder in readOnlyWorkspaceFolders {
                args += ["--ro-bind", workspaceSource + "/" + folder, Self.workspaceMount + "/" + folder]
            }
        }
        args += [
            "--ro-bind", initHelper, Self.initMount,
        ]
        if let proxySocket { args += ["--ro-bind", proxySocket, Self.proxySocketMount] }
        args += [
            "--remount-ro", "/",
            "--chdir", Self.workspaceMount,
            "--", Self.initMount,
        ]
        return args
    }

    /// Reads which of /bin, /lib... are links on this host.
    public static func hostRootLinks() -> [String: String] {
        var links: [String: String] = [:]
        for name in ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] {
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: name) {
                links[name] = target
            }
        }
        return links
    }
}
