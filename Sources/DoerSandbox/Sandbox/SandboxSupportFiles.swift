import CDoerSandbox
import DoerCore
import Foundation

/// Files every sandbox mounts from the host: doer-sandbox-init and a minimal
/// /etc/passwd and /etc/group naming the sandbox user. They are copied once into the
/// staging root, which the unprivileged sandbox uid can reach even when Doer itself is
/// installed under a private home folder.
struct SandboxSupportFiles: Sendable {
    let initHelper: String
    let passwd: String
    let group: String

    static func prepare(configuration: SandboxConfiguration) throws(DoerError) -> SandboxSupportFiles {
        let root = configuration.stagingRoot
        try WorkspaceView.ensureStagingRoot(root)
        let source = try locateInitHelper(configuration.initHelperPath)
        var info = stat()
        guard stat(source, &info) == 0 else { throw .sandboxFailure("cannot read \(source)") }
        // Named by the build's size and time, so a rebuilt helper never races with
        // sandboxes still using the old one, and nothing is read when the copy exists.
        let helper = root.appendingPathComponent("init-\(info.st_size)-\(info.st_mtim.tv_sec)-\(info.st_mtim.tv_nsec)").path
        if !FileManager.default.fileExists(atPath: helper) {
            guard let data = FileManager.default.contents(atPath: source) else {
                throw .sandboxFailure("cannot read \(source)")
            }
            try writeAtomically(data, to: helper, mode: 0o755)
        }
        let identity = configuration.runIdentity
        let passwd = root.appendingPathComponent("passwd-\(identity.uid)").path
        let group = root.appendingPathComponent("group-\(identity.gid)").path
        if !FileManager.default.fileExists(atPath: passwd) {
            try writeAtomically(Data(passwdText(uid: identity.uid, gid: identity.gid).utf8), to: passwd, mode: 0o644)
        }
        if !FileManager.default.fileExists(atPath: group) {
            try writeAtomically(Data(groupText(gid: identity.gid).utf8), to: group, mode: 0o644)
        }
        return SandboxSupportFiles(initHelper: helper, passwd: passwd, group: group)
    }

    /// The sandbox user's /etc/passwd and /etc/group: one entry each, home /tmp.
    static func passwdText(uid: UInt32, gid: UInt32) -> String { "doer:x:\(uid):\(gid):doer:/tmp:/bin/sh\n" }

    static func groupText(gid: UInt32) -> String { "doer:x:\(gid):\n" }

    /// doer-sandbox-init is built and installed beside the doer executable.
    static func locateInitHelper(_ configured: String?) throws(DoerError) -> String {
        if let found = CompanionExecutable.locate("doer-sandbox-init", configured: configured, environmentVariable: "DOER_SANDBOX_INIT") {
            return found
        }
        let candidates = CompanionExecutable.candidates("doer-sandbox-init", configured: configured, environmentVariable: "DOER_SANDBOX_INIT")
        throw .sandboxFailure("doer-sandbox-init not found (looked at \(candidates.joined(separator: ", "))); "
            + "build it with `swift build --product doer-sandbox-init` or set DOER_SANDBOX_INIT")
    }

    /// Written through a descriptor that closes on exec: a program another thread starts
    /// meanwhile must not keep the file open for writing, or executing it (the init
    /// helper) fails with "Text file busy" for as long as that program lives.
    private static func writeAtomically(_ data: Data, to path: String, mode: Int) throws(DoerError) {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else { throw .sandboxFailure("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        // The mode as asked, whatever the umask took away.
        let complete = Supervisor.writeAll(fd, data) && fchmod(fd, mode_t(mode)) == 0
        close(fd)
        guard complete else {
            unlink(temporary)
            throw .sandboxFailure("cannot write \(temporary)")
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw .sandboxFailure("cannot install \(path): \(String(cString: strerror(errno)))")
        }
    }
}
