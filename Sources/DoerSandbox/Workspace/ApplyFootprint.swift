import DoerCore

/// What applying a run's changes adds to the real workspace's disk, so the disk limit also
/// holds for what the apply writes, not only for what the run's view held.
///
/// The two differ: the apply writes every file in full under its own name, so a sparse
/// file's holes become blocks (`truncate -s 1G` takes nothing on the view's tmpfs or in a
/// scan) and each hard link becomes a file of its own (one 64 MiB file linked ten thousand
/// times is counted once in the view). A run could otherwise turn a few pages of its view
/// into terabytes on the host. Counted here: each applied regular file by its size, rounded
/// up to whole 4 KiB blocks, and a block for each new folder and long link (a view's
/// tmpfs gives them inodes but no size); less what the files it replaces or deletes take
/// there now, since those go when the apply ends.
enum ApplyFootprint {
    static let block: Int64 = 4096
    /// A link target this long no longer fits in the inode (ext4) and takes a block.
    static let fastLinkLength = 60

    static func blocks(_ size: Int64) -> Int64 { (max(0, size) + block - 1) / block * block }

    /// Bytes the apply writes, and bytes it frees once it is done.
    static func measure(_ applicable: [FileChange], after: [String: FileTree.Entry],
                        before: [String: FileTree.Entry]) -> (written: Int64, freed: Int64) {
        var written: Int64 = 0
        var freedPaths: Set<String> = []
        var replacedFolders: [String] = []
        for change in applicable {
            if change.kind != .deleted, let entry = after[change.path] {
                switch entry.kind {
                case .file:
                    written += blocks(entry.size)
                case .directory where before[change.path]?.kind != .directory:
                    // A new folder takes a block on the host's disk, none on a tmpfs.
                    written += block
                case .symlink(let target) where target.utf8.count >= fastLinkLength:
                    written += block
                default:
                    break
                }
            }
            switch before[change.path]?.kind {
            case .file?:
                freedPaths.insert(change.path)
            case .directory?:
                // A folder deleted, or replaced by a file or link, goes with all it held.
                if change.kind == .deleted || after[change.path].map({ $0.kind != .directory }) == true {
                    replacedFolders.append(change.path + "/")
                }
            default:
                break
            }
        }
        if !replacedFolders.isEmpty {
            for (path, entry) in before where entry.kind == .file && replacedFolders.contains(where: { path.hasPrefix($0) }) {
                freedPaths.insert(path)
            }
        }
        let freed = freedPaths.reduce(Int64(0)) { $0 + blocks(before[$1]?.size ?? 0) }
        return (written, freed)
    }

    /// Why applying would go over `limit`, or nil when it stays within it.
    static func excess(written: Int64, freed: Int64, limit: Int64) -> String? {
        guard written - freed > limit else { return nil }
        return "applying its changes would write \(written >> 20) MiB"
            + (freed > 0 ? " and free \(freed >> 20) MiB" : "")
            + " in the workspace (a sparse file is written in full, each hard link as a file of its own)"
    }
}
