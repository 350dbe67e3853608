import DoerCore
import Foundation
import Synchronization

/// A workspace view's own tmpfs, mounted on the view's folder when Doer runs as root, so
/// the kernel itself caps what a run can write there: past the cap, writes fail with
/// ENOSPC, and nothing of it ever reaches the host's disk.
///
/// The view exists before the run's workspace is copied in (the warm pool starts sandboxes
/// ahead of time), so the mount starts without a practical cap and `seal` sets the real
/// one once the copy is in: what the copy uses plus the run's disk limit. tmpfs cannot go
/// from "no limit" to a limit, hence the very large finite starting values.
///
/// Its pages are memory: they are charged to the memory cgroup of whoever writes them, so
/// a run's files in the workspace also count toward its memory limit.
final class ViewTmpfs: Sendable {
    let path: String
    private struct State {
        /// An open descriptor of the mount's root, for `fstatvfs` without walking the path;
        /// -1 once unmounted.
        var rootFD: Int32
        var sealedUsage: Usage?
    }

    private let state: Mutex<State>

    var sealedUsage: Usage? { state.withLock { $0.sealedUsage } }

    /// Used and free space of the mount, in bytes and inodes.
    struct Usage: Sendable, Equatable {
        var usedBytes: Int64
        var freeBytes: Int64
        var usedInodes: Int64
        var freeInodes: Int64

        /// No room for one more page or one more inode: writes fail with ENOSPC.
        var isFull: Bool { freeBytes <= 0 || freeInodes <= 0 }
    }

    /// One inode per this many bytes of the limit (tmpfs inodes take memory, not size).
    static let bytesPerInode: Int64 = 4096
    private init(path: String, rootFD: Int32) {
        self.path = path
        state = Mutex(State(rootFD: rootFD))
    }

    /// Mounts a tmpfs on the empty folder `path`, owned by `owner` with mode 0700. nil when
    /// this process cannot mount (not root, or no CAP_SYS_ADMIN in its namespace): the
    /// disk limit then falls back to measuring the folder (`DiskUsageWatch`).
    static func mount(at path: String, owner: (uid_t, gid_t)?) -> ViewTmpfs? {
        guard geteuid() == 0 else { return nil }
        var options = "size=\(1 << 60),nr_inodes=\(UInt32.max),mode=0700"
        if let owner { options += ",uid=\(owner.0),gid=\(owner.1)" }
        guard Glibc.mount(ViewMounts.sourceName, path, "tmpfs", UInt(MS_NOSUID | MS_NODEV), options) == 0 else { return nil }
        // Not shared with any peer namespace: the mount belongs to this view alone.
        _ = Glibc.mount(nil, path, nil, UInt(MS_PRIVATE), nil)
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            _ = umount2(path, ViewMounts.detach)
            return nil
        }
        ViewMounts.register(path)
        return ViewTmpfs(path: path, rootFD: fd)
    }

    /// Sets the cap: what is in the view now (the workspace copy) plus `limit` bytes, and
    /// as many more inodes as `limit / bytesPerInode`.
    func seal(limit: Int64) throws(DoerError) {
        guard let now = usage() else { throw .workspace("the workspace view \(path) is gone") }
        let size = now.usedBytes + limit
        let inodes = now.usedInodes + max(256, limit / Self.bytesPerInode)
        let options = "size=\(size),nr_inodes=\(inodes)"
        guard Glibc.mount(nil, path, "tmpfs", UInt(MS_REMOUNT | MS_NOSUID | MS_NODEV), options) == 0 else {
            throw .sandboxFailure("cannot set the disk limit on \(path): \(String(cString: strerror(errno)))")
        }
        state.withLock { $0.sealedUsage = now }
    }

    /// Lifts the cap again so the next run's copy of the workspace fits before `seal`: a
    /// sandbox that serves several runs keeps its view's mount.
    func unseal() throws(DoerError) {
        let options = "size=\(1 << 60),nr_inodes=\(UInt32.max)"
        guard Glibc.mount(nil, path, "tmpfs", UInt(MS_REMOUNT | MS_NOSUID | MS_NODEV), options) == 0 else {
            throw .sandboxFailure("cannot lift the disk limit on \(path): \(String(cString: strerror(errno)))")
        }
        state.withLock { $0.sealedUsage = nil }
    }

    /// Bytes the run added since `seal` (pages, so a multiple of 4 KiB).
    func addedBytes() -> Int64 {
        guard let sealed = sealedUsage, let now = usage() else { return 0 }
        return max(0, now.usedBytes - sealed.usedBytes)
    }

    func usage() -> Usage? {
        var info = statvfs()
        let measured = state.withLock { state in state.rootFD >= 0 && fstatvfs(state.rootFD, &info) == 0 }
        guard measured else { return nil }
        let block = Int64(info.f_frsize)
        let blocks = Int64(info.f_blocks), free = Int64(info.f_bfree), available = Int64(info.f_bavail)
        let files = Int64(info.f_files), freeFiles = Int64(info.f_ffree)
        return Usage(usedBytes: (blocks - free) * block, freeBytes: available * block,
                     usedInodes: files - freeFiles, freeInodes: freeFiles)
    }

    /// Detaches the mount: its files go with it, at once, whatever still holds them.
    func unmount() {
        state.withLock { state in
            if state.rootFD >= 0 {
                close(state.rootFD)
                state.rootFD = -1
            }
        }
        _ = umount2(path, ViewMounts.detach)
        ViewMounts.unregister(path)
    }

    deinit {
        state.withLock { state in
            if state.rootFD >= 0 { close(state.rootFD) }
        }
    }
}
