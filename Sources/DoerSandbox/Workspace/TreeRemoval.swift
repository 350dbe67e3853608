import Foundation

/// Deletes a folder and everything in it without following a link, and without recursion.
///
/// A run may leave folders nested a hundred thousand deep (`mkdir d; cd d` in a loop, far
/// past PATH_MAX): a recursive delete would overflow Doer's stack, one holding a descriptor
/// per level would run out of them, and a delete by path would fail with ENAMETOOLONG and
/// leave the tree on the host's disk. This one holds a single descriptor: it goes down into
/// the first folder that is not empty, and back up through `..` once a folder is emptied,
/// checking that `..` is the very folder it came from (device and inode), so a folder moved
/// meanwhile stops the delete instead of steering it elsewhere.
enum TreeRemoval {
    /// Removes `name` in `parentFD`, whatever it is. Names are bytes: one that is not
    /// UTF-8 is deleted like any other.
    static func remove(_ name: String, in parentFD: Int32) {
        if unlinkat(parentFD, name, 0) == 0 || errno == ENOENT { return }
        let top = openat(parentFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard top >= 0 else { return }
        emptyFolder(top)
        _ = unlinkat(parentFD, name, AT_REMOVEDIR)
    }

    private struct Identity: Equatable {
        var device: UInt
        var inode: UInt

        init?(_ fd: Int32) {
            var info = stat()
            guard fstat(fd, &info) == 0 else { return nil }
            device = UInt(info.st_dev)
            inode = UInt(info.st_ino)
        }
    }

    /// One folder on the way down: who it is, and the subfolders already gone into (a
    /// subfolder that could not be emptied is not entered again).
    private struct Level {
        var identity: Identity
        var entered: Set<[UInt8]> = []
    }

    /// Empties the folder at `path` (not following a link there), keeping the folder itself.
    static func empty(_ path: String) {
        let top = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if top >= 0 { emptyFolder(top) }
    }

    /// Empties the folder open as `folderFD` (left open) but for the entries named in
    /// `keeping`, which are not touched.
    static func empty(_ folderFD: Int32, keeping: Set<String>) {
        let top = dup(folderFD)
        if top >= 0 { emptyFolder(top, keeping: Set(keeping.map { Array($0.utf8) + [0] })) }
    }

    /// The names in the folder open as `fd` (bytes, as the kernel gives them).
    static func names(in fd: Int32) -> [[UInt8]] {
        let readFD = dup(fd)
        guard readFD >= 0, let dir = fdopendir(readFD) else {
            if readFD >= 0 { close(readFD) }
            return []
        }
        // The duplicate shares the offset of every earlier pass.
        rewinddir(dir)
        var names: [[UInt8]] = []
        while let item = DirectoryEntry.next(dir) {
            if !item.isSelfOrParent { names.append(item.nameBytes) }
        }
        closedir(dir)
        return names
    }

    /// Empties the folder open as `top`, and closes it. Names in `keeping` (NUL-terminated)
    /// are left alone in `top` itself.
    private static func emptyFolder(_ top: Int32, keeping: Set<[UInt8]> = []) {
        guard let topIdentity = Identity(top) else { close(top); return }
        var levels = [Level(identity: topIdentity, entered: keeping)]
        var current = top
        while true {
            if let next = removeChildren(of: current, skipping: levels[levels.count - 1].entered,
                                         keeping: levels.count == 1 ? keeping : []) {
                levels[levels.count - 1].entered.insert(next)
                let child = next.withUnsafeBufferPointer { name in
                    name.withMemoryRebound(to: CChar.self) { name -> Int32 in
                        let fd = openat(current, name.baseAddress!, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                        // A folder a run took the permissions off (ours, so we may give them back).
                        guard fd < 0, errno == EACCES, fchmodat(current, name.baseAddress!, 0o700, 0) == 0 else { return fd }
                        return openat(current, name.baseAddress!, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    }
                }
                guard child >= 0, let identity = Identity(child) else {
                    if child >= 0 { close(child) }
                    continue
                }
                close(current)
                current = child
                levels.append(Level(identity: identity))
                continue
            }
            // Emptied (or as empty as it will get): back up to the parent, which removes it
            // on its next pass.
            levels.removeLast()
            guard let parent = levels.last else { close(current); return }
            let up = openat(current, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(current)
            guard up >= 0 else { return }
            guard Identity(up) == parent.identity else { close(up); return }
            current = up
        }
    }

    /// Unlinks every file, link and empty folder in `fd`; returns a folder that is not
    /// empty (its name, NUL-terminated) for the caller to go into, or nil when none is left
    /// but those in `skipping`.
    private static func removeChildren(of fd: Int32, skipping: Set<[UInt8]>, keeping: Set<[UInt8]> = []) -> [UInt8]? {
        let names = Self.names(in: fd).map { $0 + [0] }
        var notEmpty: [UInt8]?
        for name in names where !keeping.contains(name) {
            let removed = name.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { name in
                    unlinkat(fd, name.baseAddress!, 0) == 0 || errno == ENOENT
                        || unlinkat(fd, name.baseAddress!, AT_REMOVEDIR) == 0 || errno == ENOENT
                }
            }
            if removed { continue }
            if notEmpty == nil && (errno == ENOTEMPTY || errno == EEXIST) && !skipping.contains(name) { notEmpty = name }
        }
        return notEmpty
    }
}
