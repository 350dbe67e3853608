import Foundation

/// One entry `readdir` returned, read where it lies.
///
/// `d_name` is never copied out of the entry by value (`withUnsafeBytes(of: entry.pointee.d_name)`
/// copies all 256 bytes of the declared array): the kernel packs entries by the length of
/// their names, so one near the end of the directory's buffer is shorter than
/// `struct dirent`, and such a copy reads past the buffer — a crash once the buffer ends
/// where no memory is mapped.
struct DirectoryEntry {
    let pointer: UnsafeMutablePointer<dirent>

    /// The next entry of `directory`, or nil at its end. Valid until the next `readdir` or
    /// `closedir` of the same directory.
    static func next(_ directory: OpaquePointer) -> DirectoryEntry? {
        readdir(directory).map(DirectoryEntry.init(pointer:))
    }

    /// The NUL-terminated name in the directory's own buffer.
    var name: UnsafePointer<CChar> {
        UnsafeRawPointer(pointer).advanced(by: Self.nameOffset).assumingMemoryBound(to: CChar.self)
    }

    var nameBytes: [UInt8] {
        Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(name), count: strlen(name)))
    }

    /// The name as text, invalid UTF-8 repaired (for names only compared or shown).
    var nameText: String { String(cString: name) }

    /// `.` or `..`.
    var isSelfOrParent: Bool {
        let bytes = UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self)
        return bytes[0] == UInt8(ascii: ".") && (bytes[1] == 0 || (bytes[1] == UInt8(ascii: ".") && bytes[2] == 0))
    }

    var type: UInt8 { pointer.pointee.d_type }

    private static let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
}
