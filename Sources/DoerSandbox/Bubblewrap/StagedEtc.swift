import DoerCore
import Foundation
import Synchronization

/// The sandbox's /etc as one read-only folder: copies of the host entries programs need
/// (`BubblewrapArguments.etcFiles`) beside the sandbox user's passwd and group.
///
/// bwrap reads the whole mount table after every bind it makes, so eleven binds under /etc
/// were the largest part of a cold start's own work; one bind of this folder replaces them
/// (the README's "Performance" has the figures). The copy follows the host: before every
/// sandbox the copied folders and files are stat'ed again (links are not: replacing one
/// changes its folder's times), and a host that changed gets a new copy under a new name,
/// so sandboxes still using the old copy keep it whole.
final class StagedEtc: Sendable {
    /// The entries copied, relative to the source folder ("ssl/certs" brings an "ssl" folder
    /// holding only "certs").
    let entries: [String]
    private let source: String
    private let stagingRoot: String
    private let prefix: String
    private let extraFiles: [String: String]
    /// What was found last time: the entries, and the folders and files inside them; and
    /// the copy made of them.
    private struct Found {
        var paths: [String]
        var fingerprint: UInt64
        var current: String
    }

    private let found: Mutex<Found>

    /// nil when the copy cannot be made; the caller then binds the host's files one by one.
    init?(source: String = "/etc", entries: [String] = BubblewrapArguments.etcFiles.map { String($0.dropFirst("/etc/".count)) },
          stagingRoot: String, name: String, extraFiles: [String: String]) {
        self.source = source
        self.entries = entries
        self.stagingRoot = stagingRoot
        self.prefix = name
        self.extraFiles = extraFiles
        let paths = Self.paths(source: source, entries: entries)
        let fingerprint = Self.fingerprint(paths, extraFiles: extraFiles)
        found = Mutex(Found(paths: paths, fingerprint: fingerprint, current: ""))
        do {
            let current = try stage(fingerprint)
            found.withLock { $0.current = current }
        } catch {
            return nil
        }
    }

    /// The folder to bind at /etc: the last copy, or a new one when the host's entries changed.
    func directory() throws(DoerError) -> String {
        try found.withLock { found throws(DoerError) -> String in
            guard Self.fingerprint(found.paths, extraFiles: extraFiles) != found.fingerprint else { return found.current }
            // Something changed: list again, since a folder that changed may hold new files.
            found.paths = Self.paths(source: source, entries: entries)
            let changed = Self.fingerprint(found.paths, extraFiles: extraFiles)
            if changed != found.fingerprint {
                found.current = try stage(changed)
                found.fingerprint = changed
            }
            return found.current
        }
    }

    // MARK: Looking at the host

    /// The entries, and every folder and file inside them, but not links: a link is replaced,
    /// never changed in place, and replacing it changes its folder's times.
    static func paths(source: String, entries: [String]) -> [String] {
        var paths: [String] = []
        func visit(_ path: String) {
            paths.append(path)
            guard let folder = opendir(path) else { return }
            defer { closedir(folder) }
            var children: [String] = []
            while let entry = DirectoryEntry.next(folder) {
                guard entry.type != UInt8(DT_LNK), !entry.isSelfOrParent else { continue }
                children.append(entry.nameText)
            }
            for name in children.sorted() { visit(path + "/" + name) }
        }
        for entry in entries { visit(source + "/" + entry) }
        return paths
    }

    /// What the copy depends on: each path's kind, mode, size, inode and times, and the extra
    /// files' text. FNV-1a, the same in every process, so processes share one copy.
    static func fingerprint(_ paths: [String], extraFiles: [String: String]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ value: UInt64) {
            var value = value
            for _ in 0..<8 {
                hash ^= value & 0xff
                hash &*= 0x0000_0100_0000_01b3
                value >>= 8
            }
        }
        func mix(_ text: String) {
            for byte in text.utf8 { mix(UInt64(byte)) }
        }
        for path in paths {
            mix(path)
            var info = stat()
            guard lstat(path, &info) == 0 else {
                mix(0)
                continue
            }
            for value in [Int64(info.st_mode), Int64(info.st_size), Int64(bitPattern: UInt64(info.st_ino)),
                          Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec),
                          Int64(info.st_ctim.tv_sec), Int64(info.st_ctim.tv_nsec)] {
                mix(UInt64(bitPattern: value))
            }
        }
        for (name, text) in extraFiles.sorted(by: { $0.key < $1.key }) {
            mix(name)
            mix(text)
        }
        return hash
    }

    // MARK: Copying

    /// Copies the entries into `<prefix>-<fingerprint>` unless that copy exists. Built under a
    /// temporary name and renamed into place, so a sandbox never sees half a copy and two
    /// processes making the same copy agree on one.
    private func stage(_ print: UInt64) throws(DoerError) -> String {
        let target = stagingRoot + "/" + prefix + "-" + String(print, radix: 16)
        if access(target, F_OK) == 0 { return target }
        let temporary = target + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(temporary, 0o755) == 0 else {
            throw .sandboxFailure("cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        _ = chmod(temporary, 0o755)
        do {
            try copyEntries(into: temporary)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        for (name, text) in extraFiles {
            guard FileManager.default.createFile(atPath: temporary + "/" + name, contents: Data(text.utf8),
                                                 attributes: [.posixPermissions: 0o644]) else {
                try? FileManager.default.removeItem(atPath: temporary)
                throw .sandboxFailure("cannot write \(temporary)/\(name)")
            }
        }
        if rename(temporary, target) != 0 {
            let failure = errno
            try? FileManager.default.removeItem(atPath: temporary)
            // Another process installed the same copy first: use theirs.
            guard failure == EEXIST || failure == ENOTEMPTY else {
                throw .sandboxFailure("cannot install \(target): \(String(cString: strerror(failure)))")
            }
        }
        return target
    }

    /// Copies the entries with `FileTree`, which never follows a link: each entry's parent
    /// folders (with their modes), the entry, and everything inside it.
    private func copyEntries(into target: String) throws(DoerError) {
        let sourceFD = open(source, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        let targetFD = open(target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        defer {
            if sourceFD >= 0 { close(sourceFD) }
            if targetFD >= 0 { close(targetFD) }
        }
        guard sourceFD >= 0, targetFD >= 0 else {
            throw .sandboxFailure("cannot open \(sourceFD < 0 ? source : target): \(String(cString: strerror(errno)))")
        }
        var tree: [String: FileTree.Entry] = [:]
        for entry in entries {
            let parts = entry.split(separator: "/").map(String.init)
            for depth in 1...parts.count {
                let path = parts.prefix(depth).joined(separator: "/")
                guard let parent = FileTree.openParent(rootFD: sourceFD, relativePath: path, create: false, owner: nil) else { break }
                let found = FileTree.entry(parent.fd, parent.name)
                close(parent.fd)
                guard let found else { break }
                tree[path] = found
            }
            if case .directory = tree[entry]?.kind {
                for (inner, found) in FileTree.scan(source + "/" + entry) { tree[entry + "/" + inner] = found }
            }
        }
        try FileTree.copy(tree, fromRoot: sourceFD, toRoot: targetFD, owner: nil)
    }
}
