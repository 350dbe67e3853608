import Foundation

/// `<model>.sha256` beside an installed model: the hash Doer verified, keyed by the file's
/// size and modification time, so later checks cost a `stat` instead of hashing 500 MB.
/// Any change to the file (size or mtime) makes the stamp stale.
struct ModelFileStamp: Codable, Equatable, Sendable {
    var sha256: String
    var size: Int64
    /// Modification time, seconds since 1970.
    var modified: Double
    /// How the hash was checked: "published sha256" or "wheel RECORD hashes".
    var verifiedBy: String

    enum CodingKeys: String, CodingKey {
        case sha256, size, modified
        case verifiedBy = "verified_by"
    }

    static func location(of file: URL) -> URL {
        file.deletingLastPathComponent().appendingPathComponent(file.lastPathComponent + ".sha256")
    }

    /// Size and mtime of `file`, following a symbolic link to the real file.
    static func identity(of file: URL) -> (size: Int64, modified: Double)? {
        let path = file.resolvingSymlinksInPath().path
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              (attributes[.type] as? FileAttributeType) == .typeRegular,
              let size = (attributes[.size] as? NSNumber)?.int64Value,
              let modified = attributes[.modificationDate] as? Date else { return nil }
        return (size, modified.timeIntervalSince1970)
    }

    /// The stamp beside `file`, if it still describes the file as it is now.
    static func valid(for file: URL) -> ModelFileStamp? {
        guard let data = try? Data(contentsOf: location(of: file)),
              let stamp = try? JSONDecoder().decode(ModelFileStamp.self, from: data),
              let identity = identity(of: file),
              identity.size == stamp.size, identity.modified == stamp.modified else { return nil }
        return stamp
    }

    static func write(for file: URL, sha256: String, verifiedBy: String) throws {
        guard let identity = identity(of: file) else { return }
        let stamp = ModelFileStamp(sha256: sha256, size: identity.size, modified: identity.modified, verifiedBy: verifiedBy)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(stamp).write(to: location(of: file), options: .atomic)
    }
}
