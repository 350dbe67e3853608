public import DoerCore
import DoerSandbox
public import Foundation

/// Files of a workspace as the API sees them: relative paths that never leave it.
public enum WorkspaceFiles {
    public static let maxListed = 2000

    public static func validate(relativePath path: String) throws(ServerError) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !path.hasPrefix("/"), path.utf8.count <= 1024, !path.utf8.contains(0),
              parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
            throw .badRequest("invalid file path '\(path)': it must be relative, inside the workspace, without '.', '..' or empty parts")
        }
        if let reason = ProtectedPaths.refusal(for: path) { throw .badRequest("invalid file path '\(path)': \(reason)") }
    }

    /// Every path of a request's files, and the set as a whole: files that together make a
    /// folder one git would open as a repository (`sub/HEAD` with `sub/refs/…`) are refused
    /// like files inside `.git`, since whoever runs git there runs what its `config` names.
    public static func validate(paths: some Collection<String>) throws(ServerError) {
        for path in paths { try validate(relativePath: path) }
        if let folder = ProtectedPaths.repositoryFolders(in: paths).min() {
            throw .badRequest("invalid files: git would open \(folder.isEmpty ? "the workspace itself" : "'\(folder)'") as a repository "
                + "(HEAD, refs, objects or commondir are there, as in a git folder), and what a repository's configuration and hooks name runs on the host")
        }
    }

    /// Writes `files` into a new folder the sandbox user can read.
    public static func write(_ files: [String: String], into root: URL) throws(DoerError) {
        do {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
            for (path, content) in files {
                let file = root.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o755])
                try Data(content.utf8).write(to: file)
                chmod(file.path, 0o644)
            }
        } catch {
            throw .workspace("cannot write into \(root.path): \(error.localizedDescription)")
        }
    }

    /// Regular files under `root` (relative paths, sorted), skipping hidden files and folders.
    public static func list(_ root: URL) -> [(path: String, size: Int)] {
        guard let enumerator = FileManager.default.enumerator(atPath: root.path) else { return [] }
        var found: [(String, Int)] = []
        while let path = enumerator.nextObject() as? String, found.count < maxListed {
            let attributes = enumerator.fileAttributes
            if (path as NSString).lastPathComponent.hasPrefix(".") {
                if attributes?[.type] as? FileAttributeType == .typeDirectory { enumerator.skipDescendants() }
                continue
            }
            guard attributes?[.type] as? FileAttributeType == .typeRegular else { continue }
            found.append((path, (attributes?[.size] as? NSNumber)?.intValue ?? 0))
        }
        return found.sorted { $0.0 < $1.0 }
    }

    /// The content of `path` inside `root`, refusing anything (a link, `..`) that resolves outside it.
    public static func read(_ path: String, in root: URL, maxBytes: Int = 4 << 20) throws(ServerError) -> Data {
        try validate(relativePath: path)
        let base = root.resolvingSymlinksInPath().path
        let file = root.appendingPathComponent(path).resolvingSymlinksInPath()
        guard file.path.hasPrefix(base + "/") else { throw .notFound("no file \(path) in this workspace") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw .notFound("no file \(path) in this workspace")
        }
        guard let data = FileManager.default.contents(atPath: file.path) else { throw .notFound("cannot read \(path)") }
        guard data.count <= maxBytes else { throw .badRequest("\(path) is larger than \(maxBytes) bytes") }
        return data
    }
}
