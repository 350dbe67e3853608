import Foundation

/// What a folder takes on its disk: allocated blocks (`st_blocks`, so sparse files count
/// for what they really hold) and inodes, found without following a single link, each
/// inode counted once however many hard links it has.
///
/// The tree may be changing under the scan (the run is still writing): entries that
/// vanish are skipped, and a folder swapped for a link is never entered.
struct DiskUsageScan: Sendable, Equatable {
    var bytes: Int64 = 0
    var inodes: Int64 = 0
    /// A folder nested deeper than `maximumDepth` was found: what lies below it is not
    /// counted, so the caller treats the tree as over any limit rather than trust the sum.
    var tooDeep = false
    /// Folders and files that are there but could not be read (`EACCES`, `EPERM`): a run
    /// that takes the read or search permission off a folder it filled hides what the
    /// folder holds from a scan that is not root's. Not counted, so the caller must not
    /// trust the sum once there are more than before.
    var unreadable: Int64 = 0
    /// The scan itself ran short of something (descriptors, memory, an I/O error): the sum
    /// says nothing, and the caller should look again rather than act on it.
    var incomplete = false

    /// Each level holds one descriptor open while its children are read; a cap keeps a
    /// hostile, deeply nested tree from exhausting Doer's descriptors.
    static let maximumDepth = 128

    static func measure(_ root: String) -> DiskUsageScan {
        var scan = DiskUsageScan()
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard rootFD >= 0 else {
            // A folder that is gone (or swapped for a link or a file) holds nothing here.
            scan.note(failure: errno)
            return scan
        }
        var info = stat()
        if fstat(rootFD, &info) == 0 {
            scan.bytes += Int64(info.st_blocks) * 512
            scan.inodes += 1
        }
        var seen: Set<HardLink> = []
        scan.walk(rootFD, depth: 1, seen: &seen)
        return scan
    }

    private struct HardLink: Hashable {
        var device: UInt
        var inode: UInt
    }

    /// Sorts a failed open or stat: vanished or swapped entries are skipped (the tree may
    /// change under the scan); one that refuses to be read is counted as unreadable;
    /// anything else leaves the scan incomplete.
    private mutating func note(failure code: Int32) {
        switch code {
        case ENOENT, ENOTDIR, ELOOP: break
        case EACCES, EPERM: unreadable += 1
        default: incomplete = true
        }
    }

    /// Consumes `directoryFD`.
    private mutating func walk(_ directoryFD: Int32, depth: Int, seen: inout Set<HardLink>) {
        guard let dir = fdopendir(directoryFD) else {
            note(failure: errno)
            close(directoryFD)
            return
        }
        defer { closedir(dir) }
        while let item = DirectoryEntry.next(dir) {
            if item.isSelfOrParent { continue }
            var info = stat()
            guard fstatat(directoryFD, item.name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                note(failure: errno)
                continue
            }
            if info.st_nlink > 1 && info.st_mode & S_IFMT != S_IFDIR {
                guard seen.insert(HardLink(device: UInt(info.st_dev), inode: UInt(info.st_ino))).inserted else { continue }
            }
            bytes += Int64(info.st_blocks) * 512
            inodes += 1
            guard info.st_mode & S_IFMT == S_IFDIR else { continue }
            guard depth < Self.maximumDepth else {
                tooDeep = true
                continue
            }
            let child = openat(directoryFD, item.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if child >= 0 { walk(child, depth: depth + 1, seen: &seen) } else { note(failure: errno) }
        }
    }
}
