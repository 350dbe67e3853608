import DoerCore

/// The tree the real workspace becomes once a run's changes are written into it as it is
/// now — not as it was when the run's view was copied from it.
///
/// The two differ when something else changed the workspace meanwhile, most simply a
/// second run on the same folder: one run adds `up -> self/..` (harmless, there is no
/// `self`), another started before it adds `self -> .` (harmless in its own view, which
/// has no `up`); applied one after the other they leave a link to the workspace's parent.
/// Judging each apply's links again over this tree (`ChangeReview`), while no other apply
/// to the same workspace runs (`WorkspaceView.apply` holds a lock on it), closes that.
enum AppliedTree {
    /// `current` (the workspace scanned now) with `changes` put in place from `after`
    /// (the run's view). A folder the changes delete or replace with something else goes
    /// with everything below it.
    static func overlay(_ current: [String: FileTree.Entry], changes: [FileChange],
                        after: [String: FileTree.Entry]) -> [String: FileTree.Entry] {
        var tree = current
        var replacedFolders: Set<String> = []
        for change in changes {
            let path = change.path
            let next = change.kind == .deleted ? nil : after[path]
            if case .directory? = tree[path]?.kind, next?.kind != .directory { replacedFolders.insert(path) }
            tree[path] = next
        }
        guard !replacedFolders.isEmpty else { return tree }
        return tree.filter { path, _ in
            var folder = Substring(path)
            while let slash = folder.lastIndex(of: "/") {
                folder = folder[..<slash]
                if replacedFolders.contains(String(folder)) { return false }
            }
            return true
        }
    }
}
