import CDoerSandbox
import DoerCore
import Foundation
import Synchronization

/// A copy-on-write view of a workspace: the sandbox works on a private copy owned by the
/// sandbox's uid; afterwards the changes are collected (added, modified, deleted) and
/// either applied to the real workspace or thrown away with the copy. Speculative
/// candidates each get one, so they never see each other's edits.
final class WorkspaceView: @unchecked Sendable {
    let directory: URL
    private let owner: (uid_t, gid_t)?
    private var baseline: [String: FileTree.Entry] = [:]
    private var source: URL?
    private var unrepresentableInWorkspace: Set<FileTree.Unrepresentable> = []

    /// The view's own tmpfs when it has a disk limit and Doer may mount (`ViewTmpfs`).
    let tmpfs: ViewTmpfs?
    private let diskBytes: Int64?
    /// The protected folders as the sandbox mounted them (`reset` keeps exactly these).
    private var protectedIdentities: [String: WorkspaceIdentity] = [:]

    /// An empty view, ready to be bound into a sandbox before its content is known. With
    /// `diskBytes`, the view is its own tmpfs when Doer runs as root (see `sealDiskLimit`).
    init(stagingRoot: URL, owner: (uid_t, gid_t)?, diskBytes: Int64? = nil) throws(DoerError) {
        try Self.ensureStagingRoot(stagingRoot)
        let path = stagingRoot.appendingPathComponent("ws-\(UUID().uuidString.lowercased())", isDirectory: true).path
        guard mkdir(path, 0o700) == 0 else {
            throw .workspace("cannot create a workspace view under \(stagingRoot.path): \(String(cString: strerror(errno)))")
        }
        if let owner { _ = chown(path, owner.0, owner.1) }
        directory = URL(fileURLWithPath: path, isDirectory: true)
        self.owner = owner
        self.diskBytes = diskBytes
        if diskBytes != nil { ViewMounts.sweepAbandoned(onFirstUseOf: stagingRoot.path) }
        tmpfs = diskBytes == nil ? nil : ViewTmpfs.mount(at: path, owner: owner)
        Self.live.withLock { $0[ObjectIdentifier(self)] = LiveView(view: self) }
    }

    private struct LiveView: @unchecked Sendable { weak var view: WorkspaceView? }
    /// Views not discarded yet, for `discardAll` at exit.
    private static let live = Mutex<[ObjectIdentifier: LiveView]>([:])

    /// Discards every view still there: at exit, a run still going (the server stopping
    /// mid-run) would otherwise leave its copy of the workspace in the staging folder.
    static func discardAll() {
        let views = live.withLock { $0.values.compactMap(\.view) }
        views.forEach { $0.discard() }
    }

    /// Caps the view at the copied workspace plus the disk limit; called once the copy is
    /// in and before the run's command starts.
    func sealDiskLimit() throws(DoerError) {
        guard let tmpfs, let diskBytes else { return }
        try tmpfs.seal(limit: diskBytes)
    }

    /// The staging root must be reachable by the sandbox's uid but not listable by it, and
    /// by no one else: a run may open up its own view (`chmod 755 /workspace`), and whoever
    /// can reach it could read the copied workspace. Run as root, the sandbox has a uid of
    /// its own and needs the search bit; otherwise it runs as this uid and needs nothing.
    static var stagingRootMode: mode_t { SandboxConfiguration.switchesIdentity ? 0o711 : 0o700 }

    static func ensureStagingRoot(_ root: URL) throws(DoerError) {
        let mode = stagingRootMode
        if mkdir(root.path, mode) != 0 && errno != EEXIST {
            throw .workspace("cannot create \(root.path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard lstat(root.path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == geteuid() else {
            throw .workspace("\(root.path) is not a directory owned by this user; remove it or choose another staging folder")
        }
        _ = chmod(root.path, mode)
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
        let scan = FileTree.scanReport(workspace.path)
        // Names that are not UTF-8 cannot be copied by name, nor what nests past a scan's
        // depth; the run does without them.
        unrepresentableInWorkspace = Set(scan.unrepresentable)
        baseline = scan.entries
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

    /// Which of `changes` may be applied, and why the others may not.
    func review(_ changes: [FileChange]) -> ChangeReview {
        ChangeReview(changes: changes, after: FileTree.scan(directory.path), before: baseline, configured: configuredPaths(baseline))
    }

    /// What git's configuration takes hooks or configuration from in the workspace
    /// (`GitConfiguredPaths`), as its repositories are configured now.
    private func configuredPaths(_ entries: [String: FileTree.Entry]) -> Set<String> {
        guard let source else { return [] }
        return GitConfiguredPaths.inside(source, entries: entries)
    }

    /// What applying `changes` would write into the real workspace, and what it would free
    /// there (`ApplyFootprint`): only what the review lets through is counted.
    func applyFootprint(_ changes: [FileChange]) -> (written: Int64, freed: Int64) {
        let after = FileTree.scan(directory.path)
        let applicable = ChangeReview(changes: changes, after: after, before: baseline, configured: configuredPaths(baseline)).applicable
        return ApplyFootprint.measure(applicable, after: after, before: baseline)
    }

    /// Why applying `changes` would take the workspace past the run's disk limit, or nil.
    func applyOverLimit(_ changes: [FileChange], limit: Int64?) -> String? {
        guard let limit else { return nil }
        let footprint = applyFootprint(changes)
        guard let excess = ApplyFootprint.excess(written: footprint.written, freed: footprint.freed, limit: limit) else { return nil }
        return "the run went over its disk limit (\(ByteSize.format(limit))): \(excess); nothing was applied"
    }

    /// Applies a run's changes to the real workspace and records the outcome on `result`:
    /// held to the run's disk limit first (what the apply writes is on the host's disk too,
    /// and can be far more than the view held: sparse files are written in full, each hard
    /// link as a file — `ApplyFootprint`), then all or nothing. A change that cannot be
    /// applied must not cost the run's output: it is reported beside it, and the workspace
    /// stays as it was.
    func applyRecording(_ result: inout ExecutionResult, to workspace: URL, limit: Int64?) {
        if let reason = applyOverLimit(result.changedFiles, limit: limit) {
            result.diskLimitExceeded = true
            result.applyFailure = reason
            result.warnings.append("changes not applied: \(reason)")
            return
        }
        do {
            let refused = try applyRefusing(result.changedFiles, to: workspace)
            result.warnings += refused.map(\.message)
            // What the run changed and what was applied are one list once applied: a refused
            // link or FIFO is named in the warnings, not among the changes made.
            result.changedFiles.removeAll { change in
                refused.contains { change.path == $0.path || change.path.hasPrefix($0.path + "/") }
            }
            result.changesApplied = true
        } catch {
            result.applyFailure = error.description
            result.warnings.append("changes not applied: \(error.description)")
        }
    }

    /// What the run left that no FileChange can name: names that are not valid UTF-8
    /// (escaped for display), folders nested past what a scan reads.
    func unrepresentableChanges() -> [FileTree.Unrepresentable] {
        FileTree.scanReport(directory.path).unrepresentable.filter {
            !unrepresentableInWorkspace.contains($0) && !ProtectedPaths.contains($0.path)
        }
    }

    /// Writes the changes into the real workspace, all or nothing (`ChangeApplier`).
    /// What the review refuses — protected folders, links leading outside, FIFOs, sockets,
    /// devices — is left out and returned as warnings; anything else that cannot be
    /// applied throws, naming the path, with the workspace as it was.
    func apply(_ changes: [FileChange], to workspace: URL) throws(DoerError) -> [String] {
        try applyRefusing(changes, to: workspace).map(\.message)
    }

    /// `apply`, returning what it refused.
    func applyRefusing(_ changes: [FileChange], to workspace: URL) throws(DoerError) -> [ChangeReview.Refusal] {
        if let unrepresentable = unrepresentableChanges().first {
            let remedy = switch unrepresentable.reason {
            case .nameNotUTF8: "rename it and run again"
            case .nestedTooDeep: "flatten it and run again"
            case .tooManyNames: "remove what is not needed and run again"
            }
            throw .workspace("cannot apply \(unrepresentable); nothing was applied (\(remedy))")
        }
        let targetFD = open(workspace.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard targetFD >= 0 else { throw .workspace("cannot open \(workspace.path): \(String(cString: strerror(errno)))") }
        defer { close(targetFD) }
        let viewFD = try openView()
        defer { close(viewFD) }
        var rootInfo = stat()
        let workspaceOwner: (uid_t, gid_t)? = fstat(targetFD, &rootInfo) == 0 && geteuid() == 0
            ? (rootInfo.st_uid, rootInfo.st_gid) : nil
        // Applies to one workspace take turns, across Doer processes too: the links are
        // judged below on the workspace as it is now, which another apply must not change
        // before this one is done.
        while flock(targetFD, LOCK_EX) != 0 {
            guard errno == EINTR else { throw .workspace("cannot lock \(workspace.path): \(String(cString: strerror(errno)))") }
        }
        let after = FileTree.scan(directory.path)
        // Read from the workspace as it is now: its configuration may have changed since the copy.
        let now = FileTree.scan(workspace.path)
        let configured = GitConfiguredPaths.inside(workspace, entries: now)
        let review = ChangeReview(changes: changes, after: after, before: baseline, configured: configured)
        // The view was copied before the run; the workspace may hold links since then (a
        // second run's) that a link of this run's would turn into a way out. Judged again
        // over the tree the workspace will really become (`AppliedTree`).
        let final = ChangeReview(changes: review.applicable,
                                 after: AppliedTree.overlay(now, changes: review.applicable, after: after), before: now,
                                 configured: configured)
        var applier = ChangeApplier(viewFD: viewFD, targetFD: targetFD, after: after, before: baseline, owner: workspaceOwner)
        try applier.apply(final.applicable)
        return review.refusals + final.refusals
    }

    /// Creates, empty, the protected folders `names` (top-level) before the sandbox starts,
    /// so they can be mounted read-only inside it; `populate` fills them in place.
    func prepareProtectedFolders(_ names: [String]) {
        guard let viewFD = try? openView() else { return }
        defer { close(viewFD) }
        for name in names {
            _ = mkdirat(viewFD, name, 0o755)
            protectedIdentities[name] = WorkspaceIdentity(folder: name, in: viewFD)
        }
    }

    /// Empties the view for the next run of the same sandbox, which has it mounted: the folder
    /// and the protected folders in it (each mounted read-only on its own inside) stay, the
    /// very same ones, emptied; everything else goes. False when anything is left, or a
    /// protected folder is not the one the sandbox mounted: then the sandbox is not reused.
    func reset(protectedFolders: [String]) -> Bool {
        guard let viewFD = try? openView() else { return false }
        defer { close(viewFD) }
        // A run may have locked or opened up its own workspace (`chmod 000 /workspace`).
        _ = fchmod(viewFD, 0o700)
        if let owner { _ = fchown(viewFD, owner.0, owner.1) }
        TreeRemoval.empty(viewFD, keeping: Set(protectedFolders))
        for name in protectedFolders {
            guard protectedIdentities[name] != nil, protectedIdentities[name] == WorkspaceIdentity(folder: name, in: viewFD) else { return false }
            let fd = openat(viewFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { return false }
            TreeRemoval.empty(fd, keeping: [])
            let emptied = TreeRemoval.names(in: fd).isEmpty
            close(fd)
            guard emptied else { return false }
        }
        do { try tmpfs?.unseal() } catch { return false }
        let left = Set(TreeRemoval.names(in: viewFD))
        return left == Set(protectedFolders.map { Array($0.utf8) })
    }

    deinit { _ = Self.live.withLock { $0.removeValue(forKey: ObjectIdentifier(self)) } }

    /// Deletes the view and everything the run left in it.
    func discard() {
        _ = Self.live.withLock { $0.removeValue(forKey: ObjectIdentifier(self)) }
        // Unmounting drops the files with the tmpfs; what is left is the empty mount point.
        tmpfs?.unmount()
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
