import CDoerSandbox
import DoerCore
import Foundation

/// Moves a workspace into a sandbox pod and its changes back, as `RunnerFile`s, with the
/// same rules as every other copy of a workspace (`FileTree`): links are recorded and
/// recreated, never followed, FIFOs, sockets and devices are left out, and nothing is written
/// through a link or outside the folder it is written to.
enum WorkspaceTransfer {
    /// Every entry below `root`, parents first.
    static func snapshot(_ root: String, limitBytes: Int64) throws(DoerError) -> [RunnerFile] {
        try read(FileTree.scan(root).keys.sorted(), from: root, limitBytes: limitBytes)
    }

    /// The entries at `paths` below `root` as they are now; paths that are gone or are not a
    /// file, folder or link are left out.
    static func read(_ paths: [String], from root: String, limitBytes: Int64) throws(DoerError) -> [RunnerFile] {
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard rootFD >= 0 else { throw .workspace("cannot open \(root): \(String(cString: strerror(errno)))") }
        defer { close(rootFD) }
        var files: [RunnerFile] = []
        var total: Int64 = 0
        for path in paths {
            guard let parent = FileTree.openParent(rootFD: rootFD, relativePath: path, create: false, owner: nil) else { continue }
            defer { close(parent.fd) }
            guard let entry = FileTree.entry(parent.fd, parent.name) else { continue }
            let mode = UInt32(entry.mode & 0o777)
            switch entry.kind {
            case .directory:
                files.append(RunnerFile(path: path, kind: .directory, mode: mode))
            case .symlink(let target):
                files.append(RunnerFile(path: path, kind: .symlink, mode: mode, target: target))
            case .file:
                total += entry.size
                guard total <= limitBytes else {
                    throw .workspace("the workspace is larger than the \(ByteSize.format(limitBytes)) a sandbox pod takes")
                }
                let fd = openat(parent.fd, parent.name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                guard fd >= 0 else { throw .workspace("cannot read \(path): \(String(cString: strerror(errno)))") }
                defer { close(fd) }
                var data = Data()
                var buffer = [UInt8](repeating: 0, count: 64 << 10)
                while true {
                    let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    guard n >= 0 else { throw .workspace("cannot read \(path): \(String(cString: strerror(errno)))") }
                    if n == 0 { break }
                    data.append(contentsOf: buffer[..<n])
                }
                files.append(RunnerFile(path: path, kind: .file, mode: mode, data: data))
            case .other:
                continue
            }
        }
        return files
    }

    /// Deletes `deleted`, then writes `files` (parents first) below `root`. Whatever stands in
    /// an entry's way (a link, a file where a folder goes) is removed first; a path that is
    /// absolute, empty, or has `.` or `..` in it is refused.
    static func write(_ files: [RunnerFile], deleting deleted: [String], into root: String) throws(DoerError) {
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard rootFD >= 0 else { throw .workspace("cannot open \(root): \(String(cString: strerror(errno)))") }
        defer { close(rootFD) }
        for path in deleted {
            try check(path)
            FileTree.remove(rootFD: rootFD, path: path)
        }
        for file in files.sorted(by: { $0.path < $1.path }) {
            try check(file.path)
            guard let parent = FileTree.openParent(rootFD: rootFD, relativePath: file.path, create: true, owner: nil) else {
                throw .workspace("cannot reach the folder of \(file.path) without following a link")
            }
            defer { close(parent.fd) }
            let existing = FileTree.entry(parent.fd, parent.name)
            let mode = mode_t(file.mode & 0o777)
            switch file.kind {
            case .directory:
                if let existing, existing.kind != .directory { FileTree.remove(rootFD: parent.fd, path: parent.name) }
                if existing?.kind != .directory { _ = mkdirat(parent.fd, parent.name, 0o700) }
                _ = fchmodat(parent.fd, parent.name, mode | 0o700, 0)
            case .symlink:
                guard let target = file.target else { throw .workspace("\(file.path): a link without a target") }
                if existing != nil { FileTree.remove(rootFD: parent.fd, path: parent.name) }
                guard symlinkat(target, parent.fd, parent.name) == 0 else {
                    throw .workspace("cannot create the link \(file.path): \(String(cString: strerror(errno)))")
                }
            case .file:
                if let existing, existing.kind != .file { FileTree.remove(rootFD: parent.fd, path: parent.name) }
                let temporary = FileTree.temporaryName()
                let fd = openat(parent.fd, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw .workspace("cannot write \(file.path): \(String(cString: strerror(errno)))") }
                let data = file.data ?? Data()
                let written = data.withUnsafeBytes { raw -> Bool in
                    var offset = 0
                    while offset < raw.count {
                        let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                        if n < 0 && errno == EINTR { continue }
                        if n <= 0 { return false }
                        offset += n
                    }
                    return true
                }
                _ = fchmod(fd, mode | 0o600)
                close(fd)
                guard written, renameat(parent.fd, temporary, parent.fd, parent.name) == 0 else {
                    _ = unlinkat(parent.fd, temporary, 0)
                    throw .workspace("cannot write \(file.path): \(String(cString: strerror(errno)))")
                }
            }
        }
    }

    private static func check(_ path: String) throws(DoerError) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !path.hasPrefix("/"), !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }),
              !path.utf8.contains(0) else {
            throw .workspace("refused a workspace entry named '\(path)'")
        }
    }
}
