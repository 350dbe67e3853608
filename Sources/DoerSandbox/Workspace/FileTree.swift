import CDoerSandbox
import DoerCore
import Foundation

/// Low-level file operations that never follow symbolic links, so nothing a sandboxed
/// program leaves behind (a link to /etc/shadow, a FIFO, a setuid file) can make the host
/// read, write or honour something outside the tree it is working on.
enum FileTree {
    struct Entry: Sendable, Hashable {
        enum Kind: Sendable, Hashable { case file, directory, symlink(String), other }
        var kind: Kind
        var size: Int64
        var mode: mode_t
        var modified: timespec

        static func == (a: Entry, b: Entry) -> Bool {
            a.kind == b.kind && a.size == b.size && a.mode == b.mode
                && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
        }
        func hash(into hasher: inout Hasher) { hasher.combine(size) }
    }

    /// Every entry below `root`, keyed by relative path, without following links.
    static func scan(_ root: String) -> [String: Entry] { scanReport(root).entries }

    /// A tree as `scan` sees it, plus what it could not represent.
    struct Scan {
        var entries: [String: Entry] = [:]
        /// Entries left out of `entries`, and not descended into: a path Doer cannot name
        /// or reach is one it cannot show, check or apply.
        var unrepresentable: [Unrepresentable] = []
    }

    /// An entry a scan left out, and why.
    struct Unrepresentable: Sendable, Hashable, CustomStringConvertible {
        enum Reason: Sendable, Hashable {
            /// Its name is not valid UTF-8; the path shows the bad bytes escaped (`\xff`).
            case nameNotUTF8
            /// A folder `maximumDepth` levels down: what it holds was not read.
            case nestedTooDeep
            /// The paths read before this folder already took `maximumPathBytes`: it and
            /// what follows it were not read.
            case tooManyNames
        }
        var path: String
        var reason: Reason

        var description: String {
            switch reason {
            case .nameNotUTF8: "\(path): its name is not valid UTF-8"
            case .nestedTooDeep: "\(path): folders nest deeper than \(FileTree.maximumDepth) levels below it"
            case .tooManyNames: "\(path): the paths of the tree take more than \(FileTree.maximumPathBytes >> 20) MiB before it"
            }
        }
    }

    /// How many folders deep a scan reads. Each level is a frame of a recursive walk holding
    /// a descriptor open: without a cap, a run that nests folders a hundred thousand deep
    /// (a loop of `mkdir d; cd d`) would exhaust Doer's stack or descriptors when Doer reads
    /// what the run left. Real trees (node_modules, Java packages) stay far below it.
    static let maximumDepth = 256

    /// How many bytes of paths a scan keeps. A tree's paths are its folders' names repeated
    /// for every entry below them: 255 folders of 255-byte names with a few hundred thousand
    /// files at the bottom would be tens of gigabytes of paths in Doer's memory. Real trees
    /// (a node_modules, a large checkout) take a few tens of MiB.
    static let maximumPathBytes = 256 << 20

    /// Every entry below `root`, keyed by relative path, without following links, and what
    /// it left out.
    static func scanReport(_ root: String, pathBytes: Int = maximumPathBytes) -> Scan {
        var scan = Scan()
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard rootFD >= 0 else { return scan }
        var budget = pathBytes
        self.scan(directoryFD: rootFD, prefix: "", depth: 1, budget: &budget, into: &scan)
        return scan
    }

    /// Consumes `directoryFD`. Returns false once `budget` is spent: the scan stops there.
    @discardableResult
    private static func scan(directoryFD: Int32, prefix: String, depth: Int, budget: inout Int, into scan: inout Scan) -> Bool {
        guard let dir = fdopendir(directoryFD) else { close(directoryFD); return true }
        defer { closedir(dir) }
        while let item = DirectoryEntry.next(dir) {
            if item.isSelfOrParent { continue }
            budget -= prefix.utf8.count + 1 + strlen(item.name)
            guard budget >= 0 else {
                scan.unrepresentable.append(Unrepresentable(path: prefix.isEmpty ? "." : prefix, reason: .tooManyNames))
                return false
            }
            let bytes = item.nameBytes
            guard let name = String(validating: bytes, as: UTF8.self) else {
                scan.unrepresentable.append(Unrepresentable(path: (prefix.isEmpty ? "" : prefix + "/") + escaped(bytes), reason: .nameNotUTF8))
                continue
            }
            guard let entry = entry(directoryFD, name) else { continue }
            let path = prefix.isEmpty ? name : prefix + "/" + name
            scan.entries[path] = entry
            if case .directory = entry.kind {
                guard depth < maximumDepth else {
                    scan.unrepresentable.append(Unrepresentable(path: path, reason: .nestedTooDeep))
                    continue
                }
                let child = openat(directoryFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if child >= 0, !self.scan(directoryFD: child, prefix: path, depth: depth + 1, budget: &budget, into: &scan) { return false }
            }
        }
        return true
    }

    /// A name for display: printable ASCII and valid UTF-8 as is, other bytes as `\xNN`.
    static func escaped(_ bytes: [UInt8]) -> String {
        var out = ""
        var index = 0
        while index < bytes.count {
            // Take the longest valid UTF-8 run starting here, byte by byte.
            var end = min(bytes.count, index + 4)
            var decoded: String?
            while end > index {
                if let text = String(validating: bytes[index..<end], as: UTF8.self), text.unicodeScalars.count == 1 {
                    decoded = text
                    break
                }
                end -= 1
            }
            if let decoded, let scalar = decoded.unicodeScalars.first, scalar.value >= 0x20, scalar.value != 0x7f {
                out += decoded
                index = end
            } else {
                out += String(format: "\\x%02x", bytes[index])
                index += 1
            }
        }
        return out
    }

    /// What `name` in `directoryFD` is, without following it.
    static func entry(_ directoryFD: Int32, _ name: String) -> Entry? {
        var info = stat()
        guard fstatat(directoryFD, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        let kind: Entry.Kind
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = .file
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink(readLink(directoryFD, name) ?? "")
        default: kind = .other
        }
        return Entry(kind: kind, size: Int64(info.st_size), mode: info.st_mode & 0o7777, modified: info.st_mtim)
    }

    /// Copies `entries` (relative path -> what it is, parents before children) from one tree
    /// to another: folders, files (owner-writable, times kept) and links; FIFOs, sockets and
    /// devices are left out.
    static func copy(_ entries: [String: Entry], fromRoot: Int32, toRoot: Int32, owner: (uid_t, gid_t)?) throws(DoerError) {
        for (path, entry) in entries.sorted(by: { $0.key < $1.key }) {
            switch entry.kind {
            case .directory:
                guard let parent = openParent(rootFD: toRoot, relativePath: path, create: true, owner: owner) else { continue }
                let mode = entry.mode & 0o777 | 0o700
                _ = mkdirat(parent.fd, parent.name, mode)
                // Explicitly, not through the umask: whoever the copy is for must reach it.
                _ = fchmodat(parent.fd, parent.name, mode, 0)
                if let owner { _ = fchownat(parent.fd, parent.name, owner.0, owner.1, AT_SYMLINK_NOFOLLOW) }
                close(parent.fd)
            case .file:
                try copyFile(fromRoot: fromRoot, toRoot: toRoot, path: path, mode: entry.mode | 0o600,
                             owner: owner, modified: entry.modified)
            case .symlink(let target):
                guard let parent = openParent(rootFD: toRoot, relativePath: path, create: true, owner: owner) else { continue }
                _ = symlinkat(target, parent.fd, parent.name)
                if let owner { _ = fchownat(parent.fd, parent.name, owner.0, owner.1, AT_SYMLINK_NOFOLLOW) }
                close(parent.fd)
            case .other:
                continue
            }
        }
    }

    static func readLink(_ directoryFD: Int32, _ name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(directoryFD, name, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Opens the directory that holds `relativePath` below `rootFD`, refusing to pass
    /// through any symbolic link. Creates missing directories when `create` is set.
    static func openParent(rootFD: Int32, relativePath: String, create: Bool, owner: (uid_t, gid_t)?) -> (fd: Int32, name: String)? {
        var components = relativePath.split(separator: "/").map(String.init)
        guard let name = components.popLast(), !components.contains(".."), name != "..", name != "." else { return nil }
        var current = dup(rootFD)
        for component in components {
            var next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT && create {
                if mkdirat(current, component, 0o755) == 0, let owner {
                    _ = fchownat(current, component, owner.0, owner.1, AT_SYMLINK_NOFOLLOW)
                }
                next = openat(current, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            close(current)
            guard next >= 0 else { return nil }
            current = next
        }
        return (current, name)
    }

    /// Copies a regular file from one tree to another: written to a temporary name, then
    /// renamed over the destination so readers never see half a file.
    static func copyFile(fromRoot: Int32, toRoot: Int32, sourcePath: String? = nil, path: String, mode: mode_t,
                         owner: (uid_t, gid_t)?, modified: timespec?) throws(DoerError) {
        guard let source = openParent(rootFD: fromRoot, relativePath: sourcePath ?? path, create: false, owner: nil) else {
            throw .workspace("cannot reach \(path) without following a link")
        }
        defer { close(source.fd) }
        let input = openat(source.fd, source.name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard input >= 0 else { throw .workspace("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        var info = stat()
        guard fstat(input, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw .workspace("\(path) is not a regular file")
        }
        guard let target = openParent(rootFD: toRoot, relativePath: path, create: true, owner: owner) else {
            throw .workspace("cannot create the folder of \(path) without following a link")
        }
        defer { close(target.fd) }
        let temporary = temporaryName()
        let output = openat(target.fd, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw .workspace("cannot write \(path): \(String(cString: strerror(errno)))") }
        let ok = copyContents(from: input, to: output, size: Int(info.st_size))
        if let owner { _ = fchown(output, owner.0, owner.1) }
        // Never carry setuid, setgid or sticky bits across.
        _ = fchmod(output, mode & 0o777)
        if let modified {
            _ = doer_set_mtime(output, modified.tv_sec, modified.tv_nsec)
        }
        close(output)
        guard ok, renameat(target.fd, temporary, target.fd, target.name) == 0 else {
            _ = unlinkat(target.fd, temporary, 0)
            throw .workspace("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Copies an open file's bytes into another, from the start; false on a read or write
    /// error (errno says which).
    static func copyContents(from input: Int32, to output: Int32, size: Int) -> Bool {
        var remaining = size
        while remaining > 0 {
            let copied = doer_copy_file_range(input, output, UInt(remaining))
            if copied <= 0 { break }
            remaining -= Int(copied)
        }
        guard remaining > 0 else { return true }
        // copy_file_range is not supported across every pair of filesystems.
        _ = lseek(input, 0, SEEK_SET)
        _ = ftruncate(output, 0)
        _ = lseek(output, 0, SEEK_SET)
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n == 0 { return true }
            if n < 0 { return false }
            // A short write is not an error: write the rest, so a full disk reports ENOSPC
            // rather than whatever errno an earlier call left behind.
            var written = 0
            while written < n {
                let w = buffer.withUnsafeBytes { write(output, $0.baseAddress! + written, n - written) }
                if w < 0 { return false }
                if w == 0 { errno = EIO; return false }
                written += w
            }
        }
    }

    /// A fresh name beside a file, short enough for any name it stands in for (a name
    /// of NAME_MAX bytes leaves no room for a prefix and a suffix of its own).
    static func temporaryName() -> String {
        ".doer-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
    }

    /// Removes a file, link or whole directory below `rootFD` without following links.
    static func remove(rootFD: Int32, path: String) {
        guard let parent = openParent(rootFD: rootFD, relativePath: path, create: false, owner: nil) else { return }
        defer { close(parent.fd) }
        TreeRemoval.remove(parent.name, in: parent.fd)
    }
}
