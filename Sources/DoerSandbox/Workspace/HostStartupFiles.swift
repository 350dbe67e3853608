/// Files that a program on the host runs by itself, without the user choosing to run the
/// project's code: every Python interpreter of a virtual environment kept in the workspace
/// executes the `import` lines of each `.pth` file in its `site-packages`, and imports
/// `sitecustomize` and `usercustomize`, whatever script it is asked to run — the user's
/// own, a pre-commit hook, an editor's language server. VS Code runs a `.code-workspace`
/// file's `folderOpen` tasks when it is opened. A run may leave thousands of files in a
/// `site-packages` (a `pip install`); one `.pth` among them would not be seen in a review.
/// A workspace that is someone's home folder (an MCP client or a person can point Doer at
/// one) holds what every login runs — `.bashrc`, `.profile`, `.zshenv`, the autostart and
/// systemd user folders under `.config` — and `.ssh/`, whose `authorized_keys` lets a key in
/// and whose `config` names commands ssh runs. Such files are never applied (the rest of
/// the change is).
enum HostStartupFiles {
    /// What shells and sessions read from the top of a home folder.
    static let loginFiles: Set<String> = [
        ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile", ".zshrc", ".zshenv", ".zprofile", ".zlogin",
        ".zlogout", ".cshrc", ".tcshrc", ".login", ".kshrc", ".mkshrc", ".xprofile", ".xinitrc", ".xsession", ".xsessionrc",
        ".pam_environment", ".inputrc", ".gitconfig", ".forward",
    ]

    /// Why a change that leaves a file at `path` is not applied; nil when it may be.
    static func refusal(for path: String) -> String? {
        let components = path.split(separator: "/")
        guard let name = components.last?.lowercased() else { return nil }
        if components.count == 1 && loginFiles.contains(name) {
            return "\(path) runs at every login or shell the host starts in this folder"
        }
        if components.dropLast().contains(where: { $0.lowercased() == ".ssh" }) {
            return "\(path) is ssh's: keys it lets in, or commands it runs"
        }
        if components.count > 2, components[0] == ".config", ["autostart", "systemd", "environment.d"].contains(components[1].lowercased()) {
            return "\(path) is started by the desktop or the service manager at login"
        }
        if name.hasSuffix(".code-workspace") {
            return "\(path) is an editor's workspace file, whose tasks the editor may run when it is opened on the host"
        }
        let inPackages = components.dropLast().contains { ["site-packages", "dist-packages"].contains($0.lowercased()) }
        if inPackages && (name.hasSuffix(".pth") || name == "sitecustomize.py" || name == "usercustomize.py") {
            return "\(path) runs in every Python started from that environment on the host, whatever it is asked to run"
        }
        return nil
    }
}
