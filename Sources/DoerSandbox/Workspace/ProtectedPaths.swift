/// Folders a run may read but never change: what is in them is executed or trusted by the
/// host's own tools (git runs hooks and the programs `.git/config` names; Mercurial,
/// Subversion and Jujutsu keep their configuration and hooks the same way; `.doer/` holds
/// Doer's own project files). A run that wrote there would plant code that runs as the
/// user the next time they, or Doer, use the folder. Inside a sandbox those folders are
/// mounted read-only; their changes are never applied back, nor written by the agent.
///
/// ```swift
/// ProtectedPaths.refusal(for: ".git/hooks/pre-commit")   // "…is inside .git, …"
/// ProtectedPaths.refusal(for: "src/app.py")             // nil
/// ```
public enum ProtectedPaths {
    /// Folder names protected wherever they appear in the tree (a vendored checkout's
    /// `.git` is as dangerous as the top-level one).
    public static let names: Set<String> = [".git", ".hg", ".svn", ".jj", ".doer"]

    /// The protected component of `path`, compared without case (a case-insensitive
    /// filesystem or a later copy would turn `.GIT` into `.git`).
    public static func protectedComponent(of path: String) -> String? {
        for component in path.split(separator: "/") where names.contains(component.lowercased()) {
            return String(component)
        }
        return nil
    }

    public static func contains(_ path: String) -> Bool { protectedComponent(of: path) != nil }

    /// `path` up to and including its first protected component (`vendor/x/.git` for
    /// `vendor/x/.git/config`), or nil.
    public static func protectedFolder(of path: String) -> String? {
        var prefix: [Substring] = []
        for component in path.split(separator: "/") {
            prefix.append(component)
            if names.contains(component.lowercased()) { return prefix.joined(separator: "/") }
        }
        return nil
    }

    /// Why `path` may not be changed, or nil when it may.
    public static func refusal(for path: String) -> String? {
        guard let component = protectedComponent(of: path) else { return nil }
        return "\(path) is inside \(component), which runs and the agent may read but never change "
            + "(what is there runs on the host: hooks, configured programs)"
    }
}
