public import DoerCore
public import Foundation

/// Sample projects written to disk for the sandbox to run: benchmarks and tests use it.
public enum SampleFiles {
    /// Writes `files` under `directory`, readable by the sandbox's uid.
    public static func write(_ files: [String: String], to directory: URL) throws(DoerError) {
        do {
            for (path, content) in files {
                let url = directory.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o755])
                try Data(content.utf8).write(to: url)
                _ = chmod(url.path, 0o644)
            }
            _ = chmod(directory.path, 0o755)
        } catch {
            throw .workspace("cannot write sample files under \(directory.path): \(error.localizedDescription)")
        }
    }
}
