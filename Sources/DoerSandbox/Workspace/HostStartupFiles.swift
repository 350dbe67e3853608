/// Files that a program on the host runs by itself, without the user choosing to run the
/// project's code: every Python interpreter of a virtual environment kept in the workspace
/// executes the `import` lines of each `.pth` file in its `site-packages`, and imports
/// `sitecustomize` and `usercustomize`, whatever script it is asked to run — the user's
/// own, a pre-commit hook, an editor's language server. VS Code runs a `.code-workspace`
/// file's `folderOpen` tasks when it is opened. A run may leave thousands of files in a
/// `site-packages` (a `pip install`); one `.pth` among them would not be seen in a review.
/// Such files are never applied (the rest of the install is).
enum HostStartupFiles {
    /// Why a change that leaves a file at `path` is not applied; nil when it may be.
    static func refusal(for path: String) -> String? {
        let components = path.split(separator: "/")
        guard let name = components.last?.lowercased() else { return nil }
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
