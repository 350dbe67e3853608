import Foundation

/// Reads a workspace file as text on the host without following a link anywhere on the
/// way: the index and the lookups the model asks for see only what is in the workspace.
enum WorkspaceText {
    static func read(root: URL, path: String, limit: Int = 1 << 20) -> String? {
        let parts = path.split(separator: "/").map(String.init)
        guard !parts.isEmpty, !path.hasPrefix("/"), !parts.contains(".."), !parts.contains(".") else { return nil }
        var fd = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        for folder in parts.dropLast() {
            let next = openat(fd, folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(fd)
            guard next >= 0 else { return nil }
            fd = next
        }
        let file = openat(fd, parts.last!, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        close(fd)
        guard file >= 0 else { return nil }
        let handle = FileHandle(fileDescriptor: file, closeOnDealloc: true)
        var info = stat()
        guard fstat(file, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) <= limit,
              let data = try? handle.readToEnd() ?? Data(), !data.contains(0) else { return nil }
        return String(data: data, encoding: .utf8)
    }
}
