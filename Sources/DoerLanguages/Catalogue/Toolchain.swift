import Foundation

/// What a language needs on the host, where it lives, and which Debian packages provide it.
public struct Toolchain: Sendable, Hashable {
    /// A file that must exist on the host, and the package that installs it.
    public struct Requirement: Sendable, Hashable {
        public var path: String
        /// Debian package; nil when Debian does not provide it (the Swift toolchain).
        public var package: String?
        public init(_ path: String, package: String?) {
            self.path = path
            self.package = package
        }
    }

    public var requirements: [Requirement]
    /// Host folders outside /usr the toolchain reads (configuration under /etc, /opt
    /// toolchains); mounted read-only into its sandboxes. Entries ending in `*` match by prefix.
    public var readOnlyPaths: [String]
    /// Shown instead of an apt command when a requirement has no package.
    public var manualInstall: String?

    public init(_ requirements: [Requirement], readOnlyPaths: [String] = [], manualInstall: String? = nil) {
        self.requirements = requirements
        self.readOnlyPaths = readOnlyPaths
        self.manualInstall = manualInstall
    }

    /// The requirements not met on this host.
    public func missing(_ extra: [Requirement] = [], fileManager: FileManager = .default) -> [Requirement] {
        (requirements + extra).filter { !fileManager.fileExists(atPath: $0.path) }
    }

    /// Every Debian package of these requirements, in order, without repeats.
    public static func packages(_ requirements: [Requirement]) -> [String] {
        var seen = Set<String>()
        return requirements.compactMap(\.package).filter { seen.insert($0).inserted }
    }

    /// `readOnlyPaths` with prefix patterns expanded to what exists here.
    public func resolvedReadOnlyPaths(fileManager: FileManager = .default) -> [String] {
        readOnlyPaths.flatMap { path -> [String] in
            guard path.hasSuffix("*") else { return fileManager.fileExists(atPath: path) ? [path] : [] }
            let prefix = (path.dropLast() as Substring)
            let folder = (String(prefix) as NSString).deletingLastPathComponent
            let start = (String(prefix) as NSString).lastPathComponent
            let names = (try? fileManager.contentsOfDirectory(atPath: folder)) ?? []
            return names.filter { $0.hasPrefix(start) }.sorted().map { folder + "/" + $0 }
        }
    }
}
