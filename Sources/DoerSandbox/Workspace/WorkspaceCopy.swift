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

    /// Files added, modified or deleted compared with the workspace when it was copied.
    public func changes() -> [FileChange] { view.collectChanges() }

    /// Writes the changes into the real workspace without following any link the copy
    /// holds; returns warnings for what was not applied.
    public func apply(_ changes: [FileChange]) throws(DoerError) -> [String] {
        try view.apply(changes, to: original)
    }

    /// A unified diff of the changes (text files; binary files are named, not shown).
    public func diff(_ changes: [FileChange]) -> String {
        changes.map { change in
            let before = change.kind == .added ? nil : Self.text(at: original, change.path)
            let after = change.kind == .deleted ? nil : Self.text(at: directory, change.path)
            return UnifiedDiff.render(path: change.path, before: before, after: after)
        }.joined()
    }

    public func discard() { view.discard() }

    /// Writes a file into the copy (creating folders), refusing absolute paths, `..` and
    /// any path through a link.
    public func write(_ path: String, _ content: String) throws(DoerError) {
        guard !path.hasPrefix("/"), !path.split(separator: "/").contains(".."), !path.isEmpty else {
            throw .invalidArgument("refused path \(path): it must stay inside the workspace")
        }
        let rootFD = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw .workspace("the workspace copy is gone") }
        defer { close(rootFD) }
        guard let parent = FileTree.openParent(rootFD: rootFD, relativePath: path, create: true, owner: nil) else {
            throw .invalidArgument("refused path \(path): a folder on the way is a link")
        }
        defer { close(parent.fd) }
        let temporary = ".\(parent.name).doer-\(UInt32.random(in: 0...UInt32.max))"
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

    /// A text file of the copy, or nil when it is missing, not text, or behind a link.
    public func read(_ path: String) -> String? {
        guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else { return nil }
        return Self.text(at: directory, path) ?? nil
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

/// Unified diffs with three lines of context, from Swift's own collection difference.
enum UnifiedDiff {
    /// `before`/`after`: nil when the file does not exist on that side; `.some(nil)` when
    /// it exists but is not text.
    static func render(path: String, before: String??, after: String??) -> String {
        let oldName = before == nil ? "/dev/null" : "a/\(path)"
        let newName = after == nil ? "/dev/null" : "b/\(path)"
        if case .some(.none) = before { return "Binary file \(path) changed\n" }
        if case .some(.none) = after { return "Binary file \(path) changed\n" }
        let old = lines(before ?? nil), new = lines(after ?? nil)
        if old == new { return "" }
        var out = "--- \(oldName)\n+++ \(newName)\n"
        // Walk both files, marking each line kept, removed or inserted.
        let difference = new.difference(from: old)
        var removed = Set<Int>(), inserted = Set<Int>()
        for change in difference {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        enum Line { case keep(String), remove(String), insert(String) }
        var script: [(Line, Int, Int)] = []  // line, old index, new index
        var i = 0, j = 0
        while i < old.count || j < new.count {
            if i < old.count && removed.contains(i) {
                script.append((.remove(old[i]), i, j)); i += 1
            } else if j < new.count && inserted.contains(j) {
                script.append((.insert(new[j]), i, j)); j += 1
            } else {
                script.append((.keep(i < old.count ? old[i] : ""), i, j)); i += 1; j += 1
            }
        }
        let context = 3
        let changed = script.indices.filter { if case .keep = script[$0].0 { return false } else { return true } }
        var hunkStart = 0
        while hunkStart < changed.count {
            var hunkEnd = hunkStart
            while hunkEnd + 1 < changed.count && changed[hunkEnd + 1] - changed[hunkEnd] <= 2 * context { hunkEnd += 1 }
            let from = max(0, changed[hunkStart] - context), to = min(script.count - 1, changed[hunkEnd] + context)
            let slice = script[from...to]
            let oldCount = slice.filter { if case .insert = $0.0 { return false } else { return true } }.count
            let newCount = slice.filter { if case .remove = $0.0 { return false } else { return true } }.count
            let oldStart = oldCount == 0 ? slice.first!.1 : slice.first!.1 + 1
            let newStart = newCount == 0 ? slice.first!.2 : slice.first!.2 + 1
            out += "@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@\n"
            for (line, _, _) in slice {
                switch line {
                case .keep(let text): out += " \(text)\n"
                case .remove(let text): out += "-\(text)\n"
                case .insert(let text): out += "+\(text)\n"
                }
            }
            hunkStart = hunkEnd + 1
        }
        return out
    }

    private static func lines(_ text: String?) -> [String] {
        guard let text, !text.isEmpty else { return [] }
        var parts = text.components(separatedBy: "\n")
        if parts.last == "" { parts.removeLast() }
        return parts
    }
}
