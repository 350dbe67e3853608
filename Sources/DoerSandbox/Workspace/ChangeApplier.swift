import CDoerSandbox
import DoerCore
import Foundation

/// Writes reviewed changes into the real workspace all or nothing. Everything that can be
/// checked is checked before the first write (names, kinds, folders on the way, what the
/// workspace holds now); then each step is journaled — what was at a path is renamed
/// aside, never overwritten — so a failure half-way puts every earlier step back.
/// Nothing is opened through a link: each path is walked one folder at a time.
struct ChangeApplier {
    let viewFD: Int32
    let targetFD: Int32
    let after: [String: FileTree.Entry]
    let before: [String: FileTree.Entry]
    /// Whose the written files become (the workspace's owner, when Doer runs as root).
    let owner: (uid_t, gid_t)?

    private enum Step {
        /// A temporary file or link written beside its destination.
        case staged(parent: String, name: String)
        /// `name` now holds the change; what it held before waits under `backup`.
        case placed(parent: String, name: String, backup: String?)
        /// A deletion: what `name` held waits under `backup` until the end.
        case movedAside(parent: String, name: String, backup: String)
        case createdFolder(parent: String, name: String)
    }

    private var journal: [Step] = []

    init(viewFD: Int32, targetFD: Int32, after: [String: FileTree.Entry], before: [String: FileTree.Entry],
         owner: (uid_t, gid_t)?) {
        self.viewFD = viewFD
        self.targetFD = targetFD
        self.after = after
        self.before = before
        self.owner = owner
    }

    /// Checks every change against the workspace as it is now; throws naming the first
    /// path that cannot be applied and why. Writes nothing.
    func check(_ changes: [FileChange]) throws(DoerError) {
        // Folders the changes themselves put where a file or link is now.
        let becomingFolders = Set(changes.filter { change in
            if change.kind != .deleted, case .directory = after[change.path]?.kind { return true }
            return false
        }.map(\.path))
        for change in changes {
            let path = change.path
            let components = path.split(separator: "/", omittingEmptySubsequences: false)
            guard !path.isEmpty, !path.hasPrefix("/"), !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
                throw Self.failure(path, "it is not a path inside the workspace")
            }
            if let long = components.first(where: { $0.utf8.count > Int(NAME_MAX) }) {
                throw Self.failure(path, "the name '\(ShownText.escape(String(long.prefix(40))))…' is longer than \(NAME_MAX) bytes")
            }
            if change.kind != .deleted {
                guard let entry = after[path] else { throw Self.failure(path, "the run's copy no longer holds it") }
                if case .other = entry.kind { throw Self.failure(path, "it is not a regular file, folder or link") }
            }
            // What the workspace holds there now must be what the run started from:
            // otherwise someone changed it meanwhile, and applying would lose their work.
            let current = try workspaceEntry(path, becomingFolders: becomingFolders)
            if !Self.same(current, before[path]) {
                throw Self.failure(path, "it changed in the workspace while the run was going on")
            }
        }
    }

    /// Applies `changes` (checked first); on failure puts the workspace back and throws.
    mutating func apply(_ changes: [FileChange]) throws(DoerError) {
        try check(changes)
        journal = []
        for change in changes.sorted(by: { $0.path < $1.path }) {
            do {
                try step(change)
            } catch {
                let leftovers = rollBack()
                let restored = leftovers.isEmpty ? "the workspace is as it was"
                    : "could not put back: " + leftovers.map { ShownText.escape($0) }.joined(separator: ", ")
                // The step's own message, not its description: that would say "workspace:" twice.
                let why: String
                if case .workspace(let message) = error { why = message } else { why = error.description }
                throw .workspace("\(why); nothing was applied (\(restored))")
            }
        }
        // Only now is it safe to let go of what was replaced or deleted.
        for step in journal {
            switch step {
            case .placed(let parent, _, let backup?), .movedAside(let parent, _, let backup):
                removeBackup(parent: parent, name: backup)
            default:
                continue
            }
        }
        journal = []
    }

    private mutating func step(_ change: FileChange) throws(DoerError) {
        let path = change.path
        if change.kind == .deleted {
            guard let parent = openExistingParent(path) else { return }
            defer { close(parent.fd) }
            guard FileTree.entry(parent.fd, parent.name) != nil else { return }
            let backup = FileTree.temporaryName()
            guard renameat(parent.fd, parent.name, parent.fd, backup) == 0 else { throw Self.failure(path, Self.errnoText()) }
            journal.append(.movedAside(parent: parent.folder, name: parent.name, backup: backup))
            return
        }
        guard let entry = after[path] else { throw Self.failure(path, "the run's copy no longer holds it") }
        let parent = try openParent(path)
        defer { close(parent.fd) }
        switch entry.kind {
        case .directory:
            let mode = Self.appliedMode(entry.mode, was: before[path]?.mode)
            if let existing = FileTree.entry(parent.fd, parent.name), case .directory = existing.kind {
                _ = fchmodat(parent.fd, parent.name, mode, 0)
                return
            }
            let backup = try setAside(parent, path: path)
            guard mkdirat(parent.fd, parent.name, mode) == 0 else { throw Self.failure(path, Self.errnoText()) }
            recordPlaced(parent: parent, staged: nil, backup: backup)
            _ = fchmodat(parent.fd, parent.name, mode, 0)
            if let owner { _ = fchownat(parent.fd, parent.name, owner.0, owner.1, AT_SYMLINK_NOFOLLOW) }
        case .file:
            let temporary = try stageFile(path, into: parent, mode: Self.appliedMode(entry.mode, was: before[path]?.mode))
            let backup = try setAside(parent, path: path)
            try place(temporary, parent: parent, path: path, backup: backup)
        case .symlink(let target):
            let temporary = FileTree.temporaryName()
            guard symlinkat(target, parent.fd, temporary) == 0 else { throw Self.failure(path, Self.errnoText()) }
            journal.append(.staged(parent: parent.folder, name: temporary))
            if let owner { _ = fchownat(parent.fd, temporary, owner.0, owner.1, AT_SYMLINK_NOFOLLOW) }
            let backup = try setAside(parent, path: path)
            try place(temporary, parent: parent, path: path, backup: backup)
        case .other:
            throw Self.failure(path, "it is not a regular file, folder or link")
        }
    }

    private struct Parent {
        var fd: Int32
        var folder: String
        var name: String
    }

    /// Opens the folder holding `path`, creating missing folders (journaled), through no link.
    private mutating func openParent(_ path: String) throws(DoerError) -> Parent {
        var components = path.split(separator: "/").map(String.init)
        let name = components.removeLast()
        var current = dup(targetFD)
        var folder = ""
        for component in components {
            var next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT {
                if mkdirat(current, component, 0o755) == 0 {
                    journal.append(.createdFolder(parent: folder, name: component))
                    if let owner { _ = fchownat(current, component, owner.0, owner.1, AT_SYMLINK_NOFOLLOW) }
                }
                next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            let reason = Self.errnoText()
            close(current)
            guard next >= 0 else {
                let where_ = folder.isEmpty ? component : folder + "/" + component
                throw Self.failure(path, "\(ShownText.escape(where_)) is not a folder (\(reason)); nothing is written through a link")
            }
            current = next
            folder = folder.isEmpty ? component : folder + "/" + component
        }
        return Parent(fd: current, folder: folder, name: name)
    }

    /// The folder holding `path` if every folder on the way exists and is not a link.
    private func openExistingParent(_ path: String) -> Parent? {
        guard let parent = FileTree.openParent(rootFD: targetFD, relativePath: path, create: false, owner: nil) else { return nil }
        let folder = path.split(separator: "/").dropLast().joined(separator: "/")
        return Parent(fd: parent.fd, folder: folder, name: parent.name)
    }

    /// Renames what is at the destination aside; returns its new name, or nil when nothing was there.
    private mutating func setAside(_ parent: Parent, path: String) throws(DoerError) -> String? {
        guard FileTree.entry(parent.fd, parent.name) != nil else { return nil }
        let backup = FileTree.temporaryName()
        guard renameat(parent.fd, parent.name, parent.fd, backup) == 0 else { throw Self.failure(path, Self.errnoText()) }
        journal.append(.movedAside(parent: parent.folder, name: parent.name, backup: backup))
        return backup
    }

    private mutating func place(_ temporary: String, parent: Parent, path: String, backup: String?) throws(DoerError) {
        guard renameat(parent.fd, temporary, parent.fd, parent.name) == 0 else { throw Self.failure(path, Self.errnoText()) }
        recordPlaced(parent: parent, staged: temporary, backup: backup)
    }

    /// The staged name and the set-aside entry become one placed step.
    private mutating func recordPlaced(parent: Parent, staged: String?, backup: String?) {
        journal.removeAll { step in
            switch step {
            case .staged(let folder, let name): return folder == parent.folder && name == staged
            case .movedAside(let folder, _, let name): return folder == parent.folder && name == backup
            default: return false
            }
        }
        journal.append(.placed(parent: parent.folder, name: parent.name, backup: backup))
    }

    /// Copies the view's file into a temporary name beside its destination.
    private mutating func stageFile(_ path: String, into parent: Parent, mode: mode_t) throws(DoerError) -> String {
        guard let source = FileTree.openParent(rootFD: viewFD, relativePath: path, create: false, owner: nil) else {
            throw Self.failure(path, "the run's copy cannot be read without following a link")
        }
        defer { close(source.fd) }
        let input = openat(source.fd, source.name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard input >= 0 else { throw Self.failure(path, "cannot read the run's copy: \(Self.errnoText())") }
        defer { close(input) }
        var info = stat()
        guard fstat(input, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw Self.failure(path, "the run's copy is not a regular file")
        }
        let temporary = FileTree.temporaryName()
        let output = openat(parent.fd, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw Self.failure(path, Self.errnoText()) }
        journal.append(.staged(parent: parent.folder, name: temporary))
        let copied = FileTree.copyContents(from: input, to: output, size: Int(info.st_size))
        let reason = Self.errnoText()
        if let owner { _ = fchown(output, owner.0, owner.1) }
        _ = fchmod(output, mode)
        close(output)
        guard copied else { throw Self.failure(path, reason) }
        return temporary
    }

    /// Undoes the journal, newest first; returns the paths it could not put back.
    private mutating func rollBack() -> [String] {
        var leftovers: [String] = []
        for step in journal.reversed() {
            switch step {
            case .staged(let folder, let name):
                withFolder(folder) { FileTree.remove(rootFD: $0, path: name) }
            case .placed(let folder, let name, let backup):
                withFolder(folder) { fd in
                    FileTree.remove(rootFD: fd, path: name)
                    if let backup, renameat(fd, backup, fd, name) != 0 { leftovers.append(Self.join(folder, name)) }
                }
            case .movedAside(let folder, let name, let backup):
                withFolder(folder) { fd in
                    if renameat(fd, backup, fd, name) != 0 { leftovers.append(Self.join(folder, name)) }
                }
            case .createdFolder(let folder, let name):
                withFolder(folder) { fd in _ = unlinkat(fd, name, AT_REMOVEDIR) }
            }
        }
        journal = []
        return leftovers
    }

    private func removeBackup(parent: String, name: String) {
        withFolder(parent) { FileTree.remove(rootFD: $0, path: name) }
    }

    private func withFolder(_ folder: String, _ body: (Int32) -> Void) {
        if folder.isEmpty { body(targetFD); return }
        guard let parent = FileTree.openParent(rootFD: targetFD, relativePath: folder + "/x", create: false, owner: nil) else { return }
        body(parent.fd)
        close(parent.fd)
    }

    /// The workspace's entry at `path` now; nil when it does not exist. A folder on the way
    /// that is a link is a reason to stop: the host never writes through one.
    private func workspaceEntry(_ path: String, becomingFolders: Set<String>) throws(DoerError) -> FileTree.Entry? {
        var current = dup(targetFD)
        let components = path.split(separator: "/").map(String.init)
        var walked = ""
        for component in components.dropLast() {
            walked = Self.join(walked, component)
            let next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let failure = errno
            close(current)
            guard next >= 0 else {
                if failure == ENOENT || becomingFolders.contains(walked) { return nil }
                throw Self.failure(path, "\(ShownText.escape(walked)) on its way is not a folder in the workspace (a link?); nothing is written through a link")
            }
            current = next
        }
        defer { close(current) }
        return FileTree.entry(current, components.last!)
    }

    /// Whether the workspace still holds what the run's copy was made from.
    static func same(_ now: FileTree.Entry?, _ then: FileTree.Entry?) -> Bool {
        switch (now, then) {
        case (nil, nil): return true
        case let (now?, then?):
            switch (now.kind, then.kind) {
            case (.directory, .directory): return true
            case (.file, .file):
                return now.size == then.size && now.modified.tv_sec == then.modified.tv_sec
                    && now.modified.tv_nsec == then.modified.tv_nsec
            case let (.symlink(a), .symlink(b)): return a == b
            case (.other, .other): return true
            default: return false
            }
        default: return false
        }
    }

    /// The mode a file or folder gets in the workspace. Permission bits only: no setuid,
    /// setgid or sticky bit reaches the host (a setuid file of the run's would run as its
    /// owner there). And no wider reach for other accounts than the workspace gave: an
    /// entry the workspace had keeps the group's and others' read and write bits it had
    /// (a run's `chmod 644 secret.env` does not make the user's secret readable by every
    /// account; a `chmod 1777` folder loses its sticky bit and stays as writable as it
    /// was); a new one gets what the user's umask lets a new file have, and never write
    /// permission for others. Execute bits follow the run (`chmod +x tool.sh`).
    static func appliedMode(_ mode: mode_t, was: mode_t?, umask: mode_t = Self.processUmask) -> mode_t {
        let bits = mode & 0o777
        let reach: mode_t = 0o066
        if let was { return bits & ~(reach & ~(was & reach)) }
        return bits & ~(umask & reach) & ~0o002
    }

    /// This process's umask, read without changing it (`umask(2)` only sets).
    static let processUmask: mode_t = {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Umask:") }),
              let value = mode_t(line.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8) else { return 0o022 }
        return value
    }()

    static func failure(_ path: String, _ why: String) -> DoerError {
        .workspace("cannot apply \(ShownText.escape(path)): \(why)")
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    static func join(_ folder: String, _ name: String) -> String { folder.isEmpty ? name : folder + "/" + name }
}
