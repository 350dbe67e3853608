public import DoerCore
public import Foundation

/// A private copy of a workspace that code can be written into and run against, whose
/// changes are then listed, shown as a diff, applied to the real workspace, or thrown
/// away. The agent gives each speculative candidate one.
public final class WorkspaceCopy: @unchecked Sendable {
    private let view: WorkspaceView
    public let original: URL
    public var directory: URL { view.directory }

    /// Copies `workspace` into a new folder under `stagingRoot`, owned by Doer.
    public init(copying workspace: URL, stagingRoot: URL) throws(DoerError) {
        try SandboxEngine.checkWorkspace(workspace)
        original = workspace
        view = try WorkspaceView(stagingRoot: stagingRoot, owner: nil)
        do {
            try view.populate(from: workspace)
        } catch {
            view.discard()
            throw error
        }
    }

    /// Files added, modified or deleted compared with the workspace when it was copied,
    /// less what may never be applied (see `refusals()`).
    public func changes() -> [FileChange] { view.review(view.collectChanges()).applicable }

    /// What the copy holds that will not be applied, and why: changes in protected
    /// folders, links leading outside the workspace, FIFOs, sockets, devices, names that
    /// are not UTF-8, folders nested too deep to read.
    public func refusals() -> [String] {
        view.review(view.collectChanges()).refusals.map(\.message)
            + view.unrepresentableChanges().map { "cannot apply \($0)" }
    }

    /// Writes the changes into the real workspace without following any link the copy
    /// holds; returns warnings for what was not applied.
    public func apply(_ changes: [FileChange]) throws(DoerError) -> [String] {
        try view.apply(changes, to: original)
    }

    /// Everything the changes will do (`ChangeDiff`): text as unified diffs; links with
    /// their targets, mode changes, empty files, folders, deletions, binary files by size
    /// and SHA-256; then what will not be applied, and why.
    public func diff(_ changes: [FileChange]) -> String {
        let originalFD = open(original.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        let copyFD = open(directory.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        defer {
            if originalFD >= 0 { close(originalFD) }
            if copyFD >= 0 { close(copyFD) }
        }
        let shown = changes.map { change in
            let before = originalFD >= 0 ? ChangeDiff.side(rootFD: originalFD, path: change.path) : nil
            let after = change.kind == .deleted || copyFD < 0 ? nil : ChangeDiff.side(rootFD: copyFD, path: change.path)
            return ChangeDiff.render(path: change.path, before: before, after: after)
        }.joined()
        return shown + refusals().map { $0 + "\n" }.joined()
    }

    public func discard() { view.discard() }

    /// Writes a file into the copy (creating folders), refusing absolute paths, `..` and
    /// any path through a link.
    public func write(_ path: String, _ content: String) throws(DoerError) {
        guard !path.hasPrefix("/"), !path.split(separator: "/").contains(".."), !path.isEmpty else {
            throw .invalidArgument("refused path \(path): it must stay inside the workspace")
        }
        if let reason = ProtectedPaths.refusal(for: path) { throw .invalidArgument("refused path \(reason)") }
        if let folder = repositoryFolder(writing: path) {
            throw .invalidArgument("refused path \(path): git would open \(folder.isEmpty ? "the workspace itself" : folder) "
                + "as a repository (HEAD, refs, objects or commondir are there, as in a git folder), which runs and the agent may read but never change "
                + "(what is there runs on the host: hooks, configured programs)")
        }
        let rootFD = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw .workspace("the workspace copy is gone") }
        defer { close(rootFD) }
        guard let parent = FileTree.openParent(rootFD: rootFD, relativePath: path, create: true, owner: nil) else {
            throw .invalidArgument("refused path \(path): a folder on the way is a link")
        }
        defer { close(parent.fd) }
        let temporary = FileTree.temporaryName()
        let fd = openat(parent.fd, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .workspace("cannot write \(path): \(String(cString: strerror(errno)))") }
        let bytes = Array(content.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count, renameat(parent.fd, temporary, parent.fd, parent.name) == 0 else {
            _ = unlinkat(parent.fd, temporary, 0)
            throw .workspace("cannot write \(path)")
        }
    }

    /// Removes a regular file (or link) of the copy; a path through a link, or one that is
    /// missing, is left as it is.
    public func remove(_ path: String) {
        guard !path.hasPrefix("/"), !path.split(separator: "/").contains(".."), !path.isEmpty else { return }
        let rootFD = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { return }
        defer { close(rootFD) }
        guard let parent = FileTree.openParent(rootFD: rootFD, relativePath: path, create: false, owner: nil) else { return }
        defer { close(parent.fd) }
        _ = unlinkat(parent.fd, parent.name, 0)
    }

    /// The first folder on the way to `path` that git would open as a repository once
    /// `path` is written (`ProtectedPaths.isRepository`), or nil. Only lists folders: the
    /// write itself refuses a link on the way.
    func repositoryFolder(writing path: String) -> String? {
        let components = path.split(separator: "/").map(String.init)
        for index in components.indices {
            let folder = components[..<index].joined(separator: "/")
            let existing = (try? FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent(folder).path)) ?? []
            if ProtectedPaths.isRepository(entries: existing + [components[index]]) { return folder }
        }
        return nil
    }

    /// A text file of the copy, or nil when it is missing, not text, or behind a link.
    public func read(_ path: String) -> String? {
        guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else { return nil }
        return Self.text(at: directory, path) ?? nil
    }

    /// A text file under `root` (a workspace), or nil when it is missing, not text, or behind a link.
    public static func read(_ path: String, in root: URL) -> String? {
        guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else { return nil }
        return text(at: root, path) ?? nil
    }

    /// Relative paths of the regular files in the copy.
    public func files() -> [String] {
        FileTree.scan(directory.path).filter { if case .file = $0.value.kind { return true } else { return false } }
            .keys.sorted()
    }

    /// A regular file's text, read without following links; nil for anything else.
    static func text(at root: URL, _ path: String) -> String?? {
        let rootFD = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { return .some(nil) }
        defer { close(rootFD) }
        guard let parent = FileTree.openParent(rootFD: rootFD, relativePath: path, create: false, owner: nil) else { return .some(nil) }
        defer { close(parent.fd) }
        let fd = openat(parent.fd, parent.name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return .some(nil) }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size < 1 << 20,
              let data = try? handle.readToEnd() ?? Data() else { return .some(nil) }
        guard !data.contains(0), let text = String(data: data, encoding: .utf8) else { return .some(nil) }
        return .some(text)
    }
}
