/// Folders a run may read but never change: what is in them is executed or trusted by the
/// host's own tools (git runs hooks and the programs `.git/config` names; Mercurial,
/// Subversion and Jujutsu keep their configuration and hooks the same way; `.doer/` holds
/// Doer's own project files; editors run what their project folders name when the folder
/// is opened: a `.vscode/tasks.json` task with `runOn: folderOpen`, the programs
/// `.vscode/settings.json` names, JetBrains' startup tasks and run configurations in
/// `.idea/`, a `.devcontainer/devcontainer.json` `initializeCommand`, which runs on the host;
/// the language servers `.zed/settings.json` and Fleet's `.fleet/` start, Cursor's
/// `.cursor/` rules, the hooks a coding assistant's `.claude/settings.json` runs).
/// A run that wrote there would plant code that runs as the user the next time they, or
/// Doer, use the folder. Inside a sandbox those folders are
/// mounted read-only; their changes are never applied back, nor written by the agent.
/// The same goes for any folder, whatever its name, that git would open as a repository
/// (`repositoryFolders`): a bare repository planted in `sub/`, or the folder a workspace's
/// `.git` link or `gitdir:` file leads to.
///
/// ```swift
/// ProtectedPaths.refusal(for: ".git/hooks/pre-commit")   // "…is inside .git, …"
/// ProtectedPaths.refusal(for: "src/app.py")             // nil
/// ```
public enum ProtectedPaths {
    /// Folder names protected wherever they appear in the tree (a vendored checkout's
    /// `.git` is as dangerous as the top-level one).
    public static let names: Set<String> = [".git", ".hg", ".svn", ".jj", ".doer", ".vscode", ".idea", ".devcontainer",
                                            ".zed", ".fleet", ".cursor", ".claude"]

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

    /// Whether git opens a folder holding entries named `names` as a repository (a git
    /// folder) for any command run in it or below it: `HEAD` beside `refs` (a bare
    /// repository, or the folder a `.git` link or `gitdir:` file leads to) or beside
    /// `commondir` (a worktree's git folder), or `objects` beside `refs` (the common folder
    /// such a `commondir` names, whose `config` and hooks git uses). Such a folder works like
    /// a `.git` whatever it is called: `cd sub; git status` runs the hooks and programs its
    /// `config` names. git's own test (`is_git_directory`) wants all of `HEAD`, `objects` and
    /// `refs`, and a `HEAD` that reads as one; any entry of these names counts here, in any
    /// letter case, so nothing git accepts is missed.
    public static func isRepository(entries names: some Sequence<String>) -> Bool {
        let lowered = Set(names.map { $0.lowercased() })
        return lowered.contains("refs") && (lowered.contains("head") || lowered.contains("objects"))
            || lowered.contains("head") && lowered.contains("commondir")
    }

    /// The folders of a tree, given as every path in it (folders implied by deeper paths
    /// count), that git would open as a repository (`isRepository`); `""` is the top.
    /// Folders inside a protected folder are left out: those are refused already.
    public static func repositoryFolders(in paths: some Sequence<String>) -> Set<String> {
        var children: [String: Set<String>] = [:]
        for path in paths {
            var folder = ""
            for component in path.split(separator: "/") {
                children[folder, default: []].insert(String(component))
                folder = folder.isEmpty ? String(component) : folder + "/" + component
            }
        }
        return Set(children.filter { isRepository(entries: $0.value) && !contains($0.key) }.keys)
    }

    /// Why `path` may not be changed, or nil when it may.
    public static func refusal(for path: String) -> String? {
        guard let component = protectedComponent(of: path) else { return nil }
        return "\(path) is inside \(component), which runs and the agent may read but never change "
            + "(what is there runs on the host: hooks, configured programs)"
    }
}
