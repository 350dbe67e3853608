import CDoerSandbox
import DoerCore
import Foundation

/// A copy-on-write view of a workspace: the sandbox works on a private copy owned by the
/// sandbox's uid; afterwards the changes are collected (added, modified, deleted) and
/// either applied to the real workspace or thrown away with the copy. Speculative
/// candidates each get one, so they never see each other's edits.
final class WorkspaceView: @unchecked Sendable {
    let directory: URL
    private let owner: (uid_t, gid_t)?
    private var baseline: [String: FileTree.Entry] = [:]
    private var source: URL?

    /// An empty view, ready to be bound into a sandbox before its content is known.
    init(stagingRoot: URL, owner: (uid_t, gid_t)?) throws(DoerError) {
        try Self.ensureStagingRoot(stagingRoot)
        let path = stagingRoot.appendingPathComponent("ws-\(UUID().uuidString.lowercased())", isDirectory: true).path
        guard mkdir(path, 0o700) == 0 else {
            throw .workspace("cannot create a workspace view under \(stagingRoot.path): \(String(cString: strerror(errno)))")
        }
        if let owner { _ = chown(path, owner.0, owner.1) }
        directory = URL(fileURLWithPath: path, isDirectory: true)
        self.owner = owner
    }

    /// The staging root must be reachable by the sandbox's uid but not listable by it.
    static func ensureStagingRoot(_ root: URL) throws(DoerError) {
        if mkdir(root.path, 0o711) != 0 && errno != EEXIST {
            throw .workspace("cannot create \(root.path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard lstat(root.path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == geteuid() else {
            throw .workspace("\(root.path) is not a directory owned by this user; remove it or choose another staging folder")
        }
        _ = chmod(root.path, 0o711)
    }

    /// Copies the workspace into the view and remembers what it looked like.
    func populate(from workspace: URL) throws(DoerError) {
        source = workspace
        let sourceFD = open(workspace.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard sourceFD >= 0 else {
            throw .workspace("cannot open \(workspace.path): \(String(cString: strerror(errno)))")
        }
        defer { close(sourceFD) }
        let viewFD = try openView()
        defer { close(viewFD) }
        baseline = FileTree.scan(workspace.path)
        try FileTree.copy(baseline, fromRoot: sourceFD, toRoot: viewFD, owner: owner)
        // FIFOs, sockets and devices were not copied; leaving them in the baseline would
        // report them deleted and delete them from the real workspace.
        baseline = baseline.filter { $0.value.kind != .other }
        // The copy's own timestamps must match the baseline for change detection.
        baseline = baseline.mapValues { entry in
            var copy = entry
            if case .file = entry.kind { copy.mode = (entry.mode | 0o600) & 0o777 }
            return copy
        }
    }

    /// What the run changed, compared with the workspace as it was copied in.
    func collectChanges() -> [FileChange] {
        let now = FileTree.scan(directory.path)
        var changes: [FileChange] = []
        for (path, entry) in now {
            guard let before = baseline[path] else {
                changes.append(FileChange(path: path, kind: .added))
                continue
            }
            switch (before.kind, entry.kind) {
            case (.directory, .directory): continue
            case (.file, .file):
                if before.size != entry.size || before.modified.tv_sec != entry.modified.tv_sec
                    || before.modified.tv_nsec != entry.modified.tv_nsec || before.mode & 0o777 != entry.mode & 0o777 {
                    changes.append(FileChange(path: path, kind: .modified))
                }
            default:
                if before.kind != entry.kind { changes.append(FileChange(path: path, kind: .modified)) }
            }
        }
        for path in baseline.keys where now[path] == nil {
            // A deleted directory's contents are implied by the directory itself.
            let parentDeleted = path.split(separator: "/").dropLast().indices.contains { index in
                let ancestor = path.split(separator: "/")[...index].joined(separator: "/")
                return now[ancestor] == nil && baseline[ancestor] != nil
            }
            if !parentDeleted { changes.append(FileChange(path: path, kind: .deleted)) }
        }
        return changes.sorted { $0.path < $1.path }
    }

    /// Writes the changes into the real workspace. Links that point outside the
    /// workspace, FIFOs, sockets and devices are not applied; each becomes a warning.
    func apply(_ changes: [FileChange], to workspace: URL) throws(DoerError) -> [String] {
        var warnings: [String] = []
        let targetFD = open(workspace.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard targetFD >= 0 else { throw .workspace("cannot open \(workspace.path): \(String(cString: strerror(errno)))") }
        defer { close(targetFD) }
        let viewFD = try openView()
        defer { close(viewFD) }
        var rootInfo = stat()
        let workspaceOwner: (uid_t, gid_t)? = fstat(targetFD, &rootInfo) == 0 && geteuid() == 0
            ? (rootInfo.st_uid, rootInfo.st_gid) : nil
        let current = FileTree.scan(directory.path)
        for change in changes {
            if change.kind == .deleted {
                FileTree.remove(rootFD: targetFD, path: change.path)
                continue
            }
            guard let entry = current[change.path] else { continue }
            switch entry.kind {
            case .file:
                if change.kind == .modified, let before = baseline[change.path], case .directory = before.kind {
                    FileTree.remove(rootFD: targetFD, path: change.path)
                }
                try FileTree.copyFile(fromRoot: viewFD, toRoot: targetFD, path: change.path, mode: entry.mode,
                                      owner: workspaceOwner, modified: nil)
            case .directory:
                guard let parent = FileTree.openParent(rootFD: targetFD, relativePath: change.path, create: true, owner: workspaceOwner) else {
                    warnings.append("not applied: \(change.path) (its folder is a link)")
                    continue
                }
                if mkdirat(parent.fd, parent.name, entry.mode & 0o777) == 0, let workspaceOwner {
                    _ = fchownat(parent.fd, parent.name, workspaceOwner.0, workspaceOwner.1, AT_SYMLINK_NOFOLLOW)
                }
                close(parent.fd)
            case .symlink(let target):
                guard Self.staysInside(link: change.path, target: target) else {
                    warnings.append("not applied: link \(change.path) -> \(target) points outside the workspace")
                    continue
                }
                guard let parent = FileTree.openParent(rootFD: targetFD, relativePath: change.path, create: true, owner: workspaceOwner) else { continue }
                _ = unlinkat(parent.fd, parent.name, 0)
                _ = symlinkat(target, parent.fd, parent.name)
                close(parent.fd)
            case .other:
                warnings.append("not applied: \(change.path) is not a regular file, folder or link")
            }
        }
        return warnings
    }

    static func staysInside(link: String, target: String) -> Bool {
        guard !target.hasPrefix("/") else { return false }
        var depth = link.split(separator: "/").count - 1
        for component in target.split(separator: "/") {
            if component == ".." { depth -= 1 } else if component != "." { depth += 1 }
            if depth < 0 { return false }
        }
        return true
    }

    /// Deletes the view and everything the run left in it.
    func discard() {
        let parentFD = open(directory.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parentFD >= 0 else { return }
        FileTree.remove(rootFD: parentFD, path: directory.lastPathComponent)
        close(parentFD)
    }

    private func openView() throws(DoerError) -> Int32 {
        let fd = open(directory.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw .workspace("the workspace view \(directory.path) is gone") }
        return fd
    }
}
