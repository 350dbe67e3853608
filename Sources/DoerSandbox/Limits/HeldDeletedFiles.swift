import Foundation

/// Files a run deleted but still holds open, on the filesystems a disk scan covers.
///
/// A scan walks names, and a deleted file has none: a run that writes a file, keeps it
/// open and unlinks it takes the host's disk while no scan can see it — as many times over
/// as it can keep files open. Such a file lives as long as a process holds it, and every
/// process of a sandbox is a descendant of the sandbox's first process (its own pid
/// namespace keeps orphans inside), so their open descriptors and mapped files are read
/// from /proc: each file with no link left, on one of `devices`, counted once by its
/// allocated blocks.
///
/// Not seen: a descriptor in flight in a socket's queue (SCM_RIGHTS) that no process has
/// received, and, when Doer is not root, a mapping whose descriptor was closed
/// (`/proc/PID/map_files` needs CAP_SYS_ADMIN). Both end with the run.
enum HeldDeletedFiles {
    static func bytes(heldByTreeOf root: pid_t, onDevices devices: Set<UInt>) -> Int64 {
        guard root > 0, !devices.isEmpty else { return 0 }
        var seen: Set<FileIdentity> = []
        var bytes: Int64 = 0
        for pid in descendants(of: root) {
            for folder in ["fd", "map_files"] {
                bytes += held(in: "/proc/\(pid)/\(folder)", devices: devices, seen: &seen)
            }
        }
        return bytes
    }

    private struct FileIdentity: Hashable {
        var device: UInt
        var inode: UInt
    }

    /// `root` and every process below it, through each thread's `children` list.
    static func descendants(of root: pid_t) -> [pid_t] {
        var found: [pid_t] = []
        var visited: Set<pid_t> = []
        var pending = [root]
        while let pid = pending.popLast() {
            guard visited.insert(pid).inserted else { continue }
            found.append(pid)
            // A tree larger than any sandbox allows is not walked further.
            if visited.count > 1 << 16 { break }
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            for task in tasks {
                guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8) else { continue }
                pending += text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
        }
        return found
    }

    /// Deleted regular files on `devices` behind the links of a /proc folder.
    private static func held(in folder: String, devices: Set<UInt>, seen: inout Set<FileIdentity>) -> Int64 {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0, let dir = fdopendir(fd) else {
            if fd >= 0 { close(fd) }
            return 0
        }
        defer { closedir(dir) }
        var bytes: Int64 = 0
        while let item = DirectoryEntry.next(dir) {
            var info = stat()
            // Following the link is the point: it leads to the open file itself, named or not.
            let found = item.name[0] != CChar(UInt8(ascii: ".")) && fstatat(fd, item.name, &info, 0) == 0
            guard found, info.st_mode & S_IFMT == S_IFREG, info.st_nlink == 0, devices.contains(UInt(info.st_dev)) else { continue }
            guard seen.insert(FileIdentity(device: UInt(info.st_dev), inode: UInt(info.st_ino))).inserted else { continue }
            bytes += Int64(info.st_blocks) * 512
        }
        return bytes
    }
}
