import Foundation

/// Reads what a path below a root holds without following any link on the way: each
/// folder is opened by itself with `O_NOFOLLOW`, so a folder a run replaced with a link
/// (to `/etc`, to another user's workspace) is noticed, never read through.
enum UnfollowedFile {
    enum Found: Equatable {
        case regular(Data)
        case link
        case other
        case missing
    }

    static func read(_ path: String, under root: URL) -> Found {
        var current = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard current >= 0 else { return .missing }
        var components = path.split(separator: "/").map(String.init)
        guard let name = components.popLast(), !components.contains(".."), name != ".." else { close(current); return .missing }
        for component in components {
            let next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let failure = errno
            close(current)
            guard next >= 0 else { return failure == ELOOP || failure == ENOTDIR ? .link : .missing }
            current = next
        }
        defer { close(current) }
        var info = stat()
        guard fstatat(current, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFLNK: return .link
        case S_IFREG: break
        default: return .other
        }
        let fd = openat(current, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return .missing }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        guard let data = try? handle.readToEnd() else { return .regular(Data()) }
        return .regular(data)
    }
}
