public import DoerCore
public import Foundation

extension WorkspaceBackup {
    /// Reads the current state of every changed path, never following links.
    public static func take(of changes: [FileChange], in workspace: URL) -> WorkspaceBackup {
        let rootFD = open(workspace.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { if rootFD >= 0 { close(rootFD) } }
        let entries = changes.map { change -> Entry in
            guard rootFD >= 0, let parent = FileTree.openParent(rootFD: rootFD, relativePath: change.path, create: false, owner: nil) else {
                return Entry(path: change.path, original: nil, mode: nil)
            }
            defer { close(parent.fd) }
            let fd = openat(parent.fd, parent.name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else { return Entry(path: change.path, original: nil, mode: nil) }
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            var info = stat()
            guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, let data = try? handle.readToEnd() ?? Data() else {
                return Entry(path: change.path, original: nil, mode: nil)
            }
            return Entry(path: change.path, original: data, mode: UInt32(info.st_mode & 0o777))
        }
        return WorkspaceBackup(workspace: workspace.path, entries: entries)
    }

    /// Puts the workspace back: originals rewritten, added files removed. Returns the paths restored.
    public func restore() throws(DoerError) -> [String] {
        let root = URL(fileURLWithPath: workspace, isDirectory: true)
        let rootFD = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw .workspace("cannot open \(workspace) to undo: \(String(cString: strerror(errno)))") }
        defer { close(rootFD) }
        var restored: [String] = []
        for entry in entries {
            if let original = entry.original {
                let staging = FileManager.default.temporaryDirectory.appendingPathComponent("doer-undo-\(UUID().uuidString)")
                try? FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: staging) }
                let file = staging.appendingPathComponent("content")
                do { try original.write(to: file) } catch { throw .workspace("cannot stage \(entry.path) for undo") }
                let stagingFD = open(staging.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                defer { close(stagingFD) }
                // Written atomically at entry.path, creating folders, through no link.
                try FileTree.copyFile(fromRoot: stagingFD, toRoot: rootFD, sourcePath: "content", path: entry.path,
                                      mode: mode_t(entry.mode ?? 0o644), owner: nil, modified: nil)
            } else {
                FileTree.remove(rootFD: rootFD, path: entry.path)
            }
            restored.append(entry.path)
        }
        return restored
    }
}
