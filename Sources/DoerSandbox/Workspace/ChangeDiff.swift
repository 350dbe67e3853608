import Crypto
import DoerCore
import Foundation

/// What one change will do, in words a person approving it can check: text as a unified
/// diff, and everything a text diff hides — links and where they point, mode changes,
/// empty files, folders, deletions, binary files by size and SHA-256. Names, link targets
/// and lines are shown escaped (`ShownText`): a name or a line holding terminal escapes, a
/// carriage return or a newline could otherwise draw over the rest of the diff.
enum ChangeDiff {
    /// One side of a change, read without following any link.
    struct Side {
        enum Content: Equatable {
            case text(String)
            case binary(size: Int64, sha256: String)
        }
        var kind: FileTree.Entry.Kind
        var mode: mode_t
        /// Regular files only.
        var content: Content?
    }

    /// Text is shown up to this size; past it a file is described like a binary one.
    static let textLimit = 1 << 20

    /// The entry at `path` below `rootFD`, or nil when there is none (or a folder on the
    /// way is a link, which the host never reads through).
    static func side(rootFD: Int32, path: String) -> Side? {
        guard let parent = FileTree.openParent(rootFD: rootFD, relativePath: path, create: false, owner: nil) else { return nil }
        defer { close(parent.fd) }
        guard let entry = FileTree.entry(parent.fd, parent.name) else { return nil }
        var side = Side(kind: entry.kind, mode: entry.mode & 0o7777, content: nil)
        if case .file = entry.kind {
            side.content = content(parent.fd, parent.name)
        }
        return side
    }

    private static func content(_ folderFD: Int32, _ name: String) -> Side.Content? {
        let fd = openat(folderFD, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        var hash = SHA256()
        var kept = [UInt8]()
        var total: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            hash.update(data: buffer[..<count])
            if total + Int64(count) <= Int64(textLimit) { kept += buffer[..<count] }
            total += Int64(count)
        }
        if total <= Int64(textLimit), !kept.contains(0) {
            // Text with a stray byte that is not UTF-8 is still text a program may run (one
            // `\xff` in a comment of a shell script): shown with that byte written out, never
            // hidden as "binary".
            return .text(String(validating: kept, as: UTF8.self) ?? textEscapingInvalidBytes(kept))
        }
        let digest = hash.finalize().map { String(format: "%02x", $0) }.joined()
        return .binary(size: total, sha256: digest)
    }

    /// `bytes` as text, each byte that is not part of a valid UTF-8 sequence written `\xNN`.
    static func textEscapingInvalidBytes(_ bytes: [UInt8]) -> String {
        var out = ""
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length = lead < 0x80 ? 1 : lead >> 5 == 0b110 ? 2 : lead >> 4 == 0b1110 ? 3 : lead >> 3 == 0b11110 ? 4 : 0
            if length > 0, index + length <= bytes.count,
               bytes[index + 1 ..< index + length].allSatisfy({ $0 >> 6 == 0b10 }),
               let scalar = String(validating: bytes[index ..< index + length], as: UTF8.self) {
                out += scalar
                index += length
            } else {
                out += String(format: "\\x%02x", lead)
                index += 1
            }
        }
        return out
    }

    /// `after` is read from the run's copy; its mode is shown as the apply will set it
    /// (`ChangeApplier.appliedMode`), not as the run left it.
    static func render(path: String, before: Side?, after: Side?) -> String {
        var after = after
        if let side = after, side.kind == .file || side.kind == .directory {
            after?.mode = ChangeApplier.appliedMode(side.mode, was: before?.mode)
        }
        switch (before, after) {
        case (nil, nil):
            return ""
        case (nil, let after?):
            return added(path, after)
        case (let before?, nil):
            return deleted(path, before)
        case (let before?, let after?):
            return changed(path, before, after)
        }
    }

    private static func changed(_ path: String, _ before: Side, _ after: Side) -> String {
        switch (before.kind, after.kind) {
        case (.file, .file):
            var out = ""
            if before.mode & 0o7777 != after.mode & 0o7777 {
                out += "mode of \(shown(path)): \(octal(before.mode)) -> \(octal(after.mode))\n"
            }
            switch (before.content, after.content) {
            case let (.text(old)?, .text(new)?):
                out += UnifiedDiff.render(path: path, before: old, after: new)
            case let (old, new) where old != new:
                out += "changed file \(shown(path)): \(describe(old)) -> \(describe(new))\n"
            default:
                break
            }
            return out
        case let (.symlink(old), .symlink(new)):
            // Compared by bytes: String's equality holds canonically equivalent names equal.
            return old.utf8.elementsEqual(new.utf8) ? ""
                : "changed link \(shown(path)): -> \(shown(old)) becomes -> \(shown(new))\n"
        case (.directory, .directory):
            return before.mode == after.mode ? "" : "mode of folder \(shown(path))/: \(octal(before.mode)) -> \(octal(after.mode))\n"
        default:
            return deleted(path, before) + added(path, after)
        }
    }

    private static func added(_ path: String, _ side: Side) -> String {
        switch side.kind {
        case .file:
            switch side.content {
            case .text(let text)? where text.isEmpty:
                return "added empty file \(shown(path)) (mode \(octal(side.mode)))\n"
            case .text(let text)?:
                return "added file \(shown(path)) (mode \(octal(side.mode)))\n" + UnifiedDiff.render(path: path, before: nil, after: text)
            case let content:
                return "added file \(shown(path)) (mode \(octal(side.mode))): \(describe(content))\n"
            }
        case .symlink(let target):
            return "added link \(shown(path)) -> \(shown(target))\n"
        case .directory:
            return "added folder \(shown(path))/ (mode \(octal(side.mode)))\n"
        case .other:
            return "added \(shown(path)): a FIFO, socket or device, which is never applied\n"
        }
    }

    private static func deleted(_ path: String, _ side: Side) -> String {
        switch side.kind {
        case .file:
            if case .text(let text)? = side.content, !text.isEmpty {
                return "deleted file \(shown(path))\n" + UnifiedDiff.render(path: path, before: text, after: nil)
            }
            return "deleted file \(shown(path)): \(describe(side.content))\n"
        case .symlink(let target):
            return "deleted link \(shown(path)) (it pointed to \(shown(target)))\n"
        case .directory:
            return "deleted folder \(shown(path))/ and everything in it\n"
        case .other:
            return "deleted \(shown(path)) (a FIFO, socket or device)\n"
        }
    }

    private static func describe(_ content: Side.Content?) -> String {
        switch content {
        case .text(let text)?:
            let bytes = Array(text.utf8)
            return "\(bytes.count) bytes of text, sha256 \(SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())"
        case let .binary(size, sha256)?:
            return "binary, \(size) bytes, sha256 \(sha256)"
        case nil:
            return "unreadable"
        }
    }

    private static func shown(_ name: String) -> String { ShownText.escape(name) }

    static func octal(_ mode: mode_t) -> String { String(format: "%04o", mode & 0o7777) }
}
