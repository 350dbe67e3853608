import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files below a folder, reached one path component at a time by descriptor, each opened
/// with `O_NOFOLLOW`: a folder on the way that is a link (to `/etc`, to another user's
/// workspace) is refused, never read or written through, even if it became a link after
/// a look at it.
enum NoFollowFiles {
    enum Found: Equatable {
        case regular(Data, mode: mode_t)
        /// Nothing there, or a file where a folder of the path should be.
        case missing
    }

    /// What `path` (relative, `/`-separated) holds under `root`.
    static func read(_ path: String, under root: URL) throws(DeployError) -> Found {
        let (parent, name) = try components(path)
        guard let folder = try open(parent, under: root, path: path, creating: false) else { return .missing }
        defer { close(folder) }
        let fd = openat(folder, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            let failure = errno
            if failure == ENOENT || failure == ENOTDIR { return .missing }
            if failure == ELOOP { throw .unsafePath("'\(path)' in the workspace is a link; deploys carry regular files only") }
            throw .unsafePath("cannot open '\(path)' in the workspace: \(String(cString: strerror(failure)))")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw .unsafePath("'\(path)' in the workspace is not a regular file; deploys carry regular files only")
        }
        do {
            return .regular(try handle.readToEnd() ?? Data(), mode: info.st_mode & 0o777)
        } catch {
            throw .unsafePath("cannot read '\(path)' in the workspace: \(error.localizedDescription)")
        }
    }

    /// Writes `data` at `path` under `root`, creating the folders on the way and replacing
    /// what was there (a link is replaced, not written through).
    static func write(_ data: Data, mode: mode_t, to path: String, under root: URL) throws(DeployError) {
        let (parent, name) = try components(path)
        guard let folder = try open(parent, under: root, path: path, creating: true) else {
            throw .unsafePath("cannot create the folders of '\(path)' on the checkout")
        }
        defer { close(folder) }
        if unlinkat(folder, name, 0) != 0, errno != ENOENT {
            throw .unsafePath("cannot replace '\(path)' on the checkout: \(String(cString: strerror(errno)))")
        }
        let fd = openat(folder, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .unsafePath("cannot write '\(path)' on the checkout: \(String(cString: strerror(errno)))") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: data)
        } catch {
            throw .unsafePath("cannot write '\(path)' on the checkout: \(error.localizedDescription)")
        }
        fchmod(fd, mode)
    }

    /// Removes the file at `path` under `root`, if there is one.
    static func remove(_ path: String, under root: URL) throws(DeployError) {
        let (parent, name) = try components(path)
        guard let folder = try open(parent, under: root, path: path, creating: false) else { return }
        defer { close(folder) }
        if unlinkat(folder, name, 0) != 0, errno != ENOENT {
            throw .unsafePath("cannot remove '\(path)' from the checkout: \(String(cString: strerror(errno)))")
        }
    }

    private static func components(_ path: String) throws(DeployError) -> ([String], String) {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let name = parts.popLast(), !name.isEmpty, !path.hasPrefix("/"),
              !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }), name != ".", name != ".." else {
            throw .unsafePath("'\(path)' is not a path inside the workspace")
        }
        return (parts, name)
    }

    /// The folder holding `path`'s last component, opened without following any link;
    /// nil when a folder on the way does not exist (and is not to be created).
    private static func open(_ folders: [String], under root: URL, path: String, creating: Bool) throws(DeployError) -> Int32? {
        var current = Glibc.open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard current >= 0 else { throw .unsafePath("cannot open \(root.path): \(String(cString: strerror(errno)))") }
        for (index, folder) in folders.enumerated() {
            var next = openat(current, folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0, errno == ENOENT, creating, mkdirat(current, folder, 0o755) == 0 || errno == EEXIST {
                next = openat(current, folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            let failure = errno
            close(current)
            guard next >= 0 else {
                let shown = folders[...index].joined(separator: "/")
                var info = stat()
                // Tell a link from a missing folder or a file where a folder should be.
                let isLink = lstat(root.appendingPathComponent(shown).path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
                if failure == ELOOP || isLink {
                    throw .unsafePath("'\(path)' is reached through '\(shown)', which is a link, not a folder; "
                        + "refusing to deploy it (links are never followed)")
                }
                if !creating && (failure == ENOENT || failure == ENOTDIR) { return nil }
                throw .unsafePath("'\(path)' cannot be reached: '\(shown)' is not a folder (\(String(cString: strerror(failure))))")
            }
            current = next
        }
        return current
    }
}
