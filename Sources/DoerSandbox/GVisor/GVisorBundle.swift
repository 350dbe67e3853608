import DoerCore
import Foundation

/// The OCI bundle a gVisor run starts from: what the command sees is only what this spec
/// mounts — the same set bubblewrap binds (read-only `/usr`, the `/lib*` links, the staged
/// `/etc`, the toolchains' folders, the workspace at `/workspace`, private `/tmp`) — as the
/// run's unprivileged uid with no capabilities.
///
/// `runsc do` is no sandbox for this: it shows the whole host root (read-only, but
/// readable: keys, `/etc/shadow`, Doer's own database) and runs the command as the caller,
/// root. And it moves itself out of the run's cgroup, so the memory limit did not hold.
struct GVisorBundle: Encodable {
    struct Process: Encodable {
        struct User: Encodable { var uid: UInt32; var gid: UInt32 }
        struct Capabilities: Encodable {
            var bounding: [String] = [], effective: [String] = [], inheritable: [String] = [], permitted: [String] = [], ambient: [String] = []
        }
        struct Limit: Encodable { var type: String; var hard: UInt64; var soft: UInt64 }
        var terminal = false
        var user: User
        var args: [String]
        var env: [String]
        var cwd: String
        var capabilities = Capabilities()
        var noNewPrivileges = true
        var rlimits: [Limit] = [Limit(type: "RLIMIT_CORE", hard: 0, soft: 0)]
    }
    struct Root: Encodable { var path: String; var readonly = true }
    struct Mount: Encodable {
        var destination: String
        var type: String
        var source: String
        var options: [String]

        static func bind(_ source: String, at destination: String, writable: Bool = false) -> Mount {
            Mount(destination: destination, type: "bind", source: source, options: ["rbind", writable ? "rw" : "ro", "nosuid", "nodev"])
        }
        static func tmpfs(_ destination: String, bytes: Int64) -> Mount {
            Mount(destination: destination, type: "tmpfs", source: "tmpfs", options: ["size=\(bytes)", "nosuid", "nodev", "mode=1777"])
        }
    }
    struct Linux: Encodable {
        struct Namespace: Encodable { var type: String }
        var namespaces = ["pid", "network", "ipc", "uts", "mount"].map(Namespace.init)
    }

    var ociVersion = "1.0.0"
    var process: Process
    var root: Root
    var hostname = "doer-sandbox"
    var mounts: [Mount]
    var linux = Linux()

    /// The spec for one run. The order of `mounts` is the order they are made in: binds under
    /// the host's /tmp (language caches in the staging root) come after the private /tmp.
    init(rootfs: String, uid: UInt32, gid: UInt32, command: [String], environment: [String], workingDirectory: String,
         shape: SandboxShape, workspaceSource: String, etcDirectory: String?, workspaceMount: String) {
        process = Process(user: .init(uid: uid, gid: gid), args: command, env: environment, cwd: workingDirectory)
        root = Root(path: rootfs)
        var mounts: [Mount] = [
            Mount(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "nodev", "noexec"]),
            .tmpfs("/tmp", bytes: shape.tmpSizeBytes),
            .bind("/usr", at: "/usr"),
        ]
        for name in ["/bin", "/sbin", "/lib", "/lib64"] where Self.isFolder(name) {
            mounts.append(.bind(name, at: name))
        }
        if let etcDirectory {
            mounts.append(.bind(etcDirectory, at: "/etc"))
        }
        for path in shape.readOnlyPaths where FileManager.default.fileExists(atPath: path) {
            mounts.append(.bind(path, at: path))
        }
        for path in shape.writablePaths {
            mounts.append(.bind(path, at: path, writable: true))
        }
        let writable = shape.mode != .readOnly
        mounts.append(.bind(workspaceSource, at: workspaceMount, writable: writable))
        if writable {
            for folder in shape.protectedFolders {
                mounts.append(.bind(workspaceSource + "/" + folder, at: workspaceMount + "/" + folder))
            }
        }
        self.mounts = mounts
    }

    /// A real folder, not one of the links to `usr/…` the shared root holds.
    private static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The root every run shares: empty mount points and the host's `/bin → usr/bin`-style
    /// links, nothing else. runsc adds the mount points a spec names.
    static func sharedRoot(in folder: String, links: [String: String]) throws(DoerError) -> String {
        let root = folder + "/rootfs"
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            for name in ["usr", "etc", "tmp", "proc", "dev", "workspace"] {
                try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
            }
            for (name, target) in links where (try? FileManager.default.destinationOfSymbolicLink(atPath: root + name)) != target {
                try? FileManager.default.removeItem(atPath: root + name)
                try FileManager.default.createSymbolicLink(atPath: root + name, withDestinationPath: target)
            }
        } catch {
            throw .sandboxFailure("could not prepare gVisor's root folder \(root): \(error.localizedDescription)")
        }
        return root
    }

    /// Writes `config.json` into a new folder under `folder`; bundles left by earlier runs
    /// (runsc reads the spec when it starts, so a bundle is not needed after) are removed.
    func write(in folder: String, id: String) throws(DoerError) -> String {
        let bundles = folder + "/bundles"
        let bundle = bundles + "/" + id
        Self.removeStale(in: bundles, olderThan: 600)
        do {
            try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(self).write(to: URL(fileURLWithPath: bundle + "/config.json"))
        } catch {
            throw .sandboxFailure("could not write gVisor's bundle \(bundle): \(error.localizedDescription)")
        }
        return bundle
    }

    /// Removes what `folder` holds that was last changed more than `seconds` ago.
    static func removeStale(in folder: String, olderThan seconds: TimeInterval) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        let cutoff = Date().addingTimeInterval(-seconds)
        for name in names {
            let path = folder + "/" + name
            if let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date, modified < cutoff {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
    }
}
