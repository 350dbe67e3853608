import Foundation

/// Which folder a path names, by device and inode: a folder removed and made again at the
/// same path is another folder, and a sandbox started for the old one binds the old one.
/// A sandbox that binds the folder keeps its inode alive, so the number cannot be reused
/// for a new folder while that sandbox waits.
struct WorkspaceIdentity: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64

    /// Nil when nothing is there.
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    /// The folder `name` in the folder open as `directoryFD`, not following a link; nil when
    /// it is not a folder.
    init?(folder name: String, in directoryFD: Int32) {
        var info = stat()
        guard fstatat(directoryFD, name, &info, AT_SYMLINK_NOFOLLOW) == 0, info.st_mode & S_IFMT == S_IFDIR else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
