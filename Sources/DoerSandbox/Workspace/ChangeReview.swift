import DoerCore

/// Which of a run's changes may reach the real workspace, decided on the tree the
/// workspace would become rather than path by path: a link is judged by where it leads
/// through every other link in that tree, including links the run did not touch.
///
/// Refused (shown, never applied): anything inside a protected folder (`ProtectedPaths`)
/// or inside a folder git would open as a repository (`ProtectedPaths.repositoryFolders`),
/// what the user's git configuration takes configuration or hooks from (`GitConfiguredPaths`:
/// `core.hooksPath`, included files) and the folders on its way, FIFOs, sockets and devices,
/// files the host's programs run by themselves (`HostStartupFiles`: a virtual
/// environment's `.pth`), and links that lead or pass outside the workspace or into a
/// protected folder.
struct ChangeReview {
    struct Refusal: Sendable, Hashable {
        var path: String
        var reason: String
        /// Escaped (`ShownText`): the reason names paths and link targets the run chose.
        var message: String { "not applied: " + ShownText.escape(reason) }
    }

    var applicable: [FileChange]
    var refusals: [Refusal]

    /// - Parameters:
    ///   - changes: what the run changed (`WorkspaceView.collectChanges`).
    ///   - after: the view as the run left it.
    ///   - before: the workspace as it was copied into the view.
    ///   - configured: workspace paths git's configuration names (`GitConfiguredPaths.inside`).
    init(changes: [FileChange], after: [String: FileTree.Entry], before: [String: FileTree.Entry],
         configured: Set<String> = []) {
        var refused: [String: String] = [:]
        // One refusal per protected folder: a `git init` or `git commit` inside a run
        // touches hundreds of paths there.
        var insideProtected: [String: Int] = [:]
        var insideConfigured: [String: (configured: String, count: Int)] = [:]
        // Folders holding a protected folder below the top (`vendor/lib` for a nested
        // `vendor/lib/.git`, which is not mounted read-only): deleting one, or swapping it
        // for a file or a link, would delete that folder with it — a nested repository's
        // only copy of its history.
        var holdingProtected: [String: String] = [:]
        for path in before.keys where ProtectedPaths.protectedFolder(of: path) == path {
            var folder = Substring(path)
            while let slash = folder.lastIndex(of: "/") {
                folder = folder[..<slash]
                holdingProtected[String(folder)] = path
            }
        }
        for change in changes {
            let staysFolder: Bool
            if change.kind != .deleted, case .directory? = after[change.path]?.kind { staysFolder = true } else { staysFolder = false }
            if let folder = ProtectedPaths.protectedFolder(of: change.path) {
                insideProtected[folder, default: 0] += 1
            } else if !staysFolder, let inside = holdingProtected[change.path] {
                // Before the configured paths: a nested repository's folder also holds its
                // `.lfsconfig`, but its history is the reason to name.
                refused[change.path] = "\(change.path) holds \(inside), which runs may read but never change, "
                    + "so it may not be deleted or replaced"
            } else if let touched = GitConfiguredPaths.touched(change.path, staysFolder: staysFolder, configured: configured) {
                insideConfigured[touched.refuse, default: (touched.configured, 0)].count += 1
            } else if change.kind != .deleted, case .other = after[change.path]?.kind {
                refused[change.path] = "\(change.path) is not a regular file, folder or link"
            } else if change.kind != .deleted, !staysFolder, let reason = HostStartupFiles.refusal(for: change.path) {
                refused[change.path] = reason
            }
        }
        for (folder, count) in insideProtected {
            refused[folder] = "\(count) change(s) in \(folder): runs may read "
                + "\(ProtectedPaths.protectedComponent(of: folder)!) but never change it (what is there runs on the host: hooks, configured programs)"
        }
        for (path, found) in insideConfigured {
            let what = path == found.configured ? "\(found.count) change(s) in \(path)" : "\(path) leads to \(found.configured), and changing it"
            refused[path] = "\(what): git's configuration takes hooks or configuration from \(found.configured) "
                + "(core.hooksPath, include.path, core.fsmonitor, git-lfs's .lfsconfig), so runs may read it but never change it (what is there runs on the host)"
        }
        let changed = Dictionary(changes.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })

        // The tree once every change not yet refused is in place. A refused change leaves
        // the workspace's own entry (and what was below it) where it was.
        var tree = after
        func revert(_ path: String) {
            // Only a folder (here or in the workspace) has anything below it; reverting a
            // link or a file must not cost a walk over the whole tree, as a run can leave
            // thousands of them to refuse.
            func isFolder(_ entry: FileTree.Entry?) -> Bool { if case .directory? = entry?.kind { true } else { false } }
            guard isFolder(tree[path]) || isFolder(before[path]) else { tree[path] = before[path]; return }
            tree.keys.filter { $0 == path || $0.hasPrefix(path + "/") }.forEach { tree[$0] = nil }
            for (key, entry) in before where key == path || key.hasPrefix(path + "/") { tree[key] = entry }
        }
        refused.keys.forEach(revert)

        // What lies below a refused path goes with it: a folder the run swapped for a link
        // keeps its contents in the workspace.
        func refusedHere(_ path: String) -> Bool {
            var prefix = ""
            for component in path.split(separator: "/") {
                prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
                if refused[prefix] != nil { return true }
            }
            return false
        }

        // Refusing a link can expose another chain, and putting a folder back can make
        // another a repository, so repeat until nothing changes.
        var settled = false
        while !settled {
            settled = true
            // A folder git would open as a repository, whatever its name, is a `.git`:
            // a run that leaves `sub/HEAD`, `sub/refs/` and a `sub/config` naming a
            // program, or writes where the workspace's `.git` link or `gitdir:` file
            // leads, plants what runs on the user's next `git status` there. Nothing in
            // such a folder is applied, including what turned it into one: one pass over the
            // changes and one over the tree, however many such folders a run leaves.
            let repositories = ProtectedPaths.repositoryFolders(in: tree.keys)
            var inRepository: [String: (shown: String, count: Int)] = [:]
            if !repositories.isEmpty {
                for change in changes where !refusedHere(change.path) && !ProtectedPaths.contains(change.path) {
                    let parts = change.path.split(separator: "/")
                    let ways = [""] + parts.indices.map { parts[...$0].joined(separator: "/") }
                    guard let folder = ways.first(where: repositories.contains) else { continue }
                    // The top itself is put back one top-level entry at a time.
                    let key = folder.isEmpty ? String(parts[0]) : folder
                    inRepository[key, default: (folder.isEmpty ? "the workspace itself" : folder, 0)].count += 1
                }
            }
            if !inRepository.isEmpty {
                for (path, found) in inRepository {
                    refused[path] = "\(found.count) change(s) in \(path): git would open \(found.shown) as a repository "
                        + "(HEAD, refs, objects or commondir are there, as in a git folder), so runs may read it but never change it "
                        + "(what is there runs on the host: hooks, configured programs)"
                }
                let putBack = Set(inRepository.keys)
                func below(_ key: String) -> Bool {
                    var prefix = ""
                    for component in key.split(separator: "/") {
                        prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
                        if putBack.contains(prefix) { return true }
                    }
                    return false
                }
                for key in tree.keys where below(key) { tree[key] = nil }
                for (key, entry) in before where below(key) { tree[key] = entry }
                settled = false
            }
            if !settled { continue }
            // Each link is judged on the tree as the refusals so far left it, and the pass goes
            // on after a refusal rather than starting over: starting over for each one made
            // a run that left thousands of escaping links hold the host for minutes.
            let links = tree.compactMap { path, entry -> String? in
                if case .symlink = entry.kind { return path } else { return nil }
            }.sorted()
            for path in links {
                guard case .symlink(let target)? = tree[path]?.kind else { continue }
                let resolution = TreeLinkResolver(entries: tree).resolve(link: path)
                guard case .refused(let why) = resolution.verdict else { continue }
                // A link of the run's that leads out is refused itself. A link that was
                // already in the workspace is the user's: what the run changed on its way
                // (a `self -> .` under an old `self/..`) is refused instead.
                let culprits = changed[path] != nil && refused[path] == nil ? [path]
                    : resolution.links.filter { changed[$0] != nil && refused[$0] == nil }
                for culprit in culprits {
                    let shown = culprit == path ? "\(culprit) -> \(target)" : culprit
                    refused[culprit] = "link \(shown): \(why)"
                    revert(culprit)
                    settled = false
                }
            }
        }
        applicable = changes.filter { !refusedHere($0.path) && !ProtectedPaths.contains($0.path) }
        refusals = refused.map { Refusal(path: $0.key, reason: $0.value) }.sorted { $0.path < $1.path }
    }
}
