import Foundation

/// The files of a project, relative to its root, without dependency and build folders.
public enum ProjectFiles {
    static let skipped: Set<String> = [".git", "node_modules", "target", ".build", "vendor", "__pycache__",
                                       ".doer-home", ".venv", "venv", "dist", "build"]

    public static func list(_ root: URL, limit: Int = 20000) -> [String] {
        var files: [String] = []
        let base = root.standardizedFileURL.path
        guard let enumerator = FileManager.default.enumerator(
            at: root, includingPropertiesForKeys: [.isDirectoryKey, .isSymbolicLinkKey], options: []) else { return [] }
        for case let url as URL in enumerator {
            let values = try? url.resourceValues(forKeys: [.isDirectoryKey, .isSymbolicLinkKey])
            if values?.isDirectory == true {
                if skipped.contains(url.lastPathComponent) { enumerator.skipDescendants() }
                continue
            }
            if values?.isSymbolicLink == true { continue }
            let path = url.standardizedFileURL.path
            guard path.hasPrefix(base + "/") else { continue }
            files.append(String(path.dropFirst(base.count + 1)))
            if files.count >= limit { break }
        }
        return files.sorted()
    }
}
