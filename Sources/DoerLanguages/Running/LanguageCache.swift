public import DoerCore
public import DoerSandbox
public import Foundation
import Synchronization

/// Where each language keeps what makes repeated runs fast (GOCACHE, cargo's target folder,
/// SwiftPM's scratch folder, compiled classes) and Doer's read-only harness files.
///
/// One cache per language and workspace, so one project's build can never leave something
/// in another project's cache; only build steps get it read-write. It lives under the
/// sandbox staging root because the sandbox's unprivileged uid must reach it (a data folder
/// under a private home is out of its reach).
public struct LanguageCache: Sendable {
    public let root: URL
    /// Who owns the cache folders: the sandbox's uid when Doer runs as root.
    public let owner: (uid: UInt32, gid: UInt32)?

    public init(root: URL, owner: (uid: UInt32, gid: UInt32)?) {
        self.root = root
        self.owner = owner
    }

    /// The cache beside the sandboxes of `configuration`.
    public init(configuration: SandboxConfiguration) {
        let identity = configuration.runIdentity
        self.init(root: configuration.stagingRoot.appendingPathComponent("languages", isDirectory: true),
                  owner: identity.switches ? (identity.uid, identity.gid) : nil)
    }

    /// The folders a language's steps get for `workspace`, created and filled when needed.
    public struct Folders: Sendable, Hashable {
        /// `DOER_CACHE`: read-write in build steps, read-only otherwise.
        public var cache: String
        /// `DOER_SUPPORT`: always read-only.
        public var support: String
    }

    public func folders(for language: Language, workspace: URL) throws(DoerError) -> Folders {
        let languageRoot = root.appendingPathComponent(language.name, isDirectory: true)
        // Reachable by the sandbox's own uid when it has one, by no other account: a build
        // may open up its cache (`chmod 755`) and copy the workspace's files into it.
        let passage: mode_t = owner == nil ? 0o700 : 0o711
        try Self.makeDirectory(root.deletingLastPathComponent().path, mode: passage)
        try Self.makeDirectory(root.path, mode: passage)
        try Self.makeDirectory(languageRoot.path, mode: passage)
        let support = languageRoot.appendingPathComponent("support", isDirectory: true)
        try Self.makeDirectory(support.path, mode: 0o755)
        for (name, content) in language.supportFiles.sorted(by: { $0.key < $1.key }) {
            let url = support.appendingPathComponent(name)
            try Self.makeDirectory(url.deletingLastPathComponent().path, mode: 0o755, intermediate: true)
            if FileManager.default.contents(atPath: url.path) != Data(content.utf8) {
                do {
                    try Data(content.utf8).write(to: url, options: .atomic)
                    _ = chmod(url.path, 0o644)
                } catch {
                    throw .workspace("cannot write \(url.path): \(error.localizedDescription)")
                }
            }
        }
        let cache = languageRoot.appendingPathComponent(Self.key(for: workspace), isDirectory: true)
        try Self.makeDirectory(cache.path, mode: 0o700)
        // Marks the cache as used, so pruning keeps it.
        _ = utimes(cache.path, nil)
        pruneOnce(languageRoot)
        if let owner {
            var info = stat()
            if lstat(cache.path, &info) == 0, info.st_uid != owner.uid { _ = chown(cache.path, owner.uid, owner.gid) }
        }
        return Folders(cache: cache.path, support: support.path)
    }

    /// Forgets what a language cached for a workspace (the next run is cold).
    public func clear(_ language: Language, workspace: URL) {
        let cache = root.appendingPathComponent(language.name, isDirectory: true)
            .appendingPathComponent(Self.key(for: workspace), isDirectory: true)
        try? FileManager.default.removeItem(at: cache)
    }

    /// Caches unused for this long are removed (their workspaces are likely gone).
    public static let maximumAge: TimeInterval = 14 * 24 * 3600

    private static let pruned = PrunedSet()

    /// Removes, once per language per process, the caches of workspaces unused for `maximumAge`.
    private func pruneOnce(_ languageRoot: URL) {
        guard Self.pruned.insert(languageRoot.path) else { return }
        let cutoff = Date().addingTimeInterval(-Self.maximumAge)
        let entries = (try? FileManager.default.contentsOfDirectory(
            at: languageRoot, includingPropertiesForKeys: [.contentModificationDateKey])) ?? []
        for entry in entries where entry.lastPathComponent != "support" {
            let modified = (try? entry.resourceValues(forKeys: [.contentModificationDateKey]))?.contentModificationDate
            if let modified, modified < cutoff { try? FileManager.default.removeItem(at: entry) }
        }
    }

    /// A readable, collision-resistant folder name for a workspace path.
    static func key(for workspace: URL) -> String {
        let path = workspace.standardizedFileURL.path
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in path.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let name = String(workspace.lastPathComponent.unicodeScalars.filter {
            CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_"
        }.prefix(32).map(Character.init))
        return (name.isEmpty ? "ws" : name) + "-" + String(hash, radix: 16)
    }

    private static func makeDirectory(_ path: String, mode: mode_t, intermediate: Bool = false) throws(DoerError) {
        if intermediate {
            try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                     attributes: [.posixPermissions: Int(mode)])
        } else if mkdir(path, mode) != 0 && errno != EEXIST {
            throw .workspace("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw .workspace("\(path) is not a directory; remove it")
        }
        // One made by an earlier version, or opened up since, is closed again.
        if !intermediate, info.st_uid == geteuid(), info.st_mode & 0o7777 != mode { _ = chmod(path, mode) }
    }
}

/// Paths already pruned by this process.
private final class PrunedSet: Sendable {
    private let paths = Mutex<Set<String>>([])

    func insert(_ path: String) -> Bool {
        paths.withLock { $0.insert(path).inserted }
    }
}
