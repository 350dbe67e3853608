import DoerCore
import Foundation

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
final class ViewTmpfs: @unchecked Sendable {
    let path: String
    /// An open descriptor of the mount's root, for `fstatvfs` without walking the path.
    private var rootFD: Int32
    private let lock = NSLock()
    private(set) var sealedUsage: Usage?

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
    /// Marks Doer's mounts in /proc/self/mountinfo with the process that made them, so a
    /// later process can unmount those a crashed one left behind.
    static let sourcePrefix = "doer-view-"

    private init(path: String, rootFD: Int32) {
        self.path = path
        self.rootFD = rootFD
    }

    /// Mounts a tmpfs on the empty folder `path`, owned by `owner` with mode 0700. nil when
    /// this process cannot mount (not root, or no CAP_SYS_ADMIN in its namespace): the
    /// disk limit then falls back to measuring the folder (`DiskUsageWatch`).
    static func mount(at path: String, owner: (uid_t, gid_t)?) -> ViewTmpfs? {
        guard geteuid() == 0 else { return nil }
        var options = "size=\(1 << 60),nr_inodes=\(UInt32.max),mode=0700"
        if let owner { options += ",uid=\(owner.0),gid=\(owner.1)" }
        guard Glibc.mount(sourceName, path, "tmpfs", UInt(MS_NOSUID | MS_NODEV), options) == 0 else { return nil }
        // Not shared with any peer namespace: the mount belongs to this view alone.
        _ = Glibc.mount(nil, path, nil, UInt(MS_PRIVATE), nil)
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            _ = umount2(path, Self.detach)
            return nil
        }
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
        lock.lock()
        sealedUsage = now
        lock.unlock()
    }

    /// Bytes the run added since `seal` (pages, so a multiple of 4 KiB).
    func addedBytes() -> Int64 {
        lock.lock()
        let sealed = sealedUsage
        lock.unlock()
        guard let sealed, let now = usage() else { return 0 }
        return max(0, now.usedBytes - sealed.usedBytes)
    }

    func usage() -> Usage? {
        lock.lock()
        defer { lock.unlock() }
        guard rootFD >= 0 else { return nil }
        var info = statvfs()
        guard fstatvfs(rootFD, &info) == 0 else { return nil }
        let block = Int64(info.f_frsize)
        let blocks = Int64(info.f_blocks), free = Int64(info.f_bfree), available = Int64(info.f_bavail)
        let files = Int64(info.f_files), freeFiles = Int64(info.f_ffree)
        return Usage(usedBytes: (blocks - free) * block, freeBytes: available * block,
                     usedInodes: files - freeFiles, freeInodes: freeFiles)
    }

    /// Lazily (whatever still holds it lets go later), and never through a link.
    private static let detach = Int32(MNT_DETACH) | Int32(UMOUNT_NOFOLLOW)

    /// Detaches the mount: its files go with it, at once, whatever still holds them.
    func unmount() {
        lock.lock()
        if rootFD >= 0 {
            close(rootFD)
            rootFD = -1
        }
        lock.unlock()
        _ = umount2(path, Self.detach)
    }

    /// "doer-view-<pid>-<start time>": the pid alone could be reused after a crash.
    static let sourceName: String = sourcePrefix + "\(getpid())-\(processStartTime(getpid()) ?? "0")"

    /// Unmounts, once per process and staging root, the view mounts of Doer processes that
    /// are gone (a crash or a kill leaves them mounted, holding memory), and removes their folders.
    static func sweepAbandoned(under stagingRoot: String) {
        sweepLock.lock()
        let first = sweptRoots.insert(stagingRoot).inserted
        sweepLock.unlock()
        guard first, geteuid() == 0 else { return }
        let table = mountTable()
        let prefix = stagingRoot.hasSuffix("/") ? stagingRoot : stagingRoot + "/"
        for line in table.split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let fields = halves[0].split(separator: " "), tail = halves[1].split(separator: " ")
            guard fields.count >= 5, tail.count >= 2, tail[0] == "tmpfs", tail[1].hasPrefix(sourcePrefix) else { continue }
            let mountPoint = String(fields[4])
            guard mountPoint.hasPrefix(prefix), !mountPoint.dropFirst(prefix.count).contains("/") else { continue }
            let owner = tail[1].dropFirst(sourcePrefix.count).split(separator: "-")
            guard owner.count == 2, let pid = Int32(owner[0]) else { continue }
            if processStartTime(pid) == String(owner[1]) { continue }
            _ = umount2(mountPoint, Self.detach)
            _ = rmdir(mountPoint)
        }
    }

    /// /proc/self/mountinfo, read to its end: procfs files report no size, and a
    /// whole-file read that trusts the size stops after the first page.
    static func mountTable() -> String {
        let fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static let sweepLock = NSLock()
    nonisolated(unsafe) private static var sweptRoots: Set<String> = []

    /// Field 22 of /proc/PID/stat (clock ticks after boot), nil if there is no such process.
    private static func processStartTime(_ pid: pid_t) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, so start time (22) is index 19.
        return fields.count > 19 ? String(fields[19]) : nil
    }

    deinit {
        if rootFD >= 0 { close(rootFD) }
    }
}
