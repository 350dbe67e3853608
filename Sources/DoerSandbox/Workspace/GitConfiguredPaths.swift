import Foundation

/// Paths of a workspace that git takes its configuration or hooks from because the user's
/// configuration names them, whatever they are called: `core.hooksPath = .githooks` (or
/// husky's `.husky/_`) makes the next `git commit` run what is there; an
/// `include.path = ../.gitconfig` makes every `git status` (a shell prompt's included) read
/// that file as configuration, which can name programs (`core.fsmonitor`); a `core.fsmonitor`
/// naming a script of the project runs it on every `git status`; a hook manager's hooks run
/// what its own files in the work tree name (`managedHookFiles`); git-lfs takes where it
/// sends large files from `.lfsconfig` at the top of the work tree. Every command the
/// configuration names (`namesProgram`: filters, textconv, aliases, helpers…) runs from the
/// top of the work tree, so each file it names there (`sh scripts/strip.sh`, run on every
/// `git diff`) is code the user's git runs. A run that wrote there
/// would plant code the user's own git runs, like `.git/hooks` (`ProtectedPaths`), so no
/// change of a run may touch these paths, nor turn a folder on their way into something
/// else (a `tools -> elsewhere` link moves `tools/hooks`).
///
/// The configuration is read from the files git reads (system, global, each repository's
/// own, what they include, whatever the condition), never from anything a run may change:
/// the repository's folders are protected, and so, once named, are the files it includes.
enum GitConfiguredPaths {
    /// How deep includes are followed; git stops at 10.
    static let includeDepth = 10

    /// Workspace-relative paths git takes configuration or hooks from, for the repositories
    /// of `entries` (the workspace as scanned: its own `.git` and nested ones) and the one
    /// the workspace itself may sit in.
    static func inside(_ workspace: URL, entries: [String: FileTree.Entry],
                       environment: [String: String] = ProcessInfo.processInfo.environment) -> Set<String> {
        let root = workspace.standardizedFileURL.path
        var workTrees = entries.keys.filter { $0 == ".git" || $0.hasSuffix("/.git") }
            .map { root + "/" + $0.dropLast(5).description }.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        if let enclosing = enclosingWorkTree(of: root) { workTrees.append(enclosing) }
        let shared = sharedConfigFiles(environment)
        // The files themselves, should the workspace hold them (a workspace that is the home folder).
        var found = Set(shared)
        for workTree in Set(workTrees) {
            var files = shared
            if let (gitDirectory, commonDirectory) = gitDirectories(workTree: workTree) {
                files += [commonDirectory + "/config", gitDirectory + "/config.worktree"]
            }
            var read = Reading(home: environment["HOME"])
            for file in files { read.file(file, depth: 0) }
            found.formUnion(read.includes)
            // Relative hooks and fsmonitor programs are taken from the top of the work tree.
            let hookFolders = read.hookFolders.compactMap { absolute($0, base: workTree, home: read.home) }
            found.formUnion(hookFolders)
            // A folder a command works on (`!black src`) is the project's, not a program: only
            // files, and names no file has yet, are held.
            found.formUnion(read.programs.compactMap { absolute($0, base: workTree, home: read.home) }.filter { !isFolder($0) })
            let hooks = hookFolders + (gitDirectories(workTree: workTree).map { [$0.1 + "/hooks"] } ?? [])
            found.formUnion(hooks.flatMap { managedHookFiles(hooks: $0, workTree: workTree) })
            // git-lfs reads its endpoint from the top of the work tree: a run's
            // `lfs.url = https://elsewhere` would send the user's next push of large files there.
            found.insert(workTree + "/.lfsconfig")
        }
        return Set(found.flatMap { relative($0, to: root) })
    }

    /// The settings that matter here, from a configuration file and what it includes.
    struct Reading {
        var home: String?
        var includes: Set<String> = []
        var hookFolders: [String] = []
        var programs: [String] = []

        mutating func file(_ path: String, depth: Int) {
            guard depth <= GitConfiguredPaths.includeDepth, let text = GitConfiguredPaths.contents(path) else { return }
            let folder = (path as NSString).deletingLastPathComponent
            for (key, value) in GitConfigText.entries(text) {
                guard let value, !value.isEmpty else { continue }
                let lowered = key.lowercased()
                if lowered == "include.path" || lowered.hasPrefix("includeif.") && lowered.hasSuffix(".path") {
                    guard let included = GitConfiguredPaths.absolute(value, base: folder, home: home) else { continue }
                    includes.insert(included)
                    // A missing file is included once it exists: named all the same.
                    file(included, depth: depth + 1)
                } else if lowered == "core.hookspath" {
                    hookFolders.append(value)
                } else if GitConfiguredPaths.namesProgram(lowered, value: value) {
                    programs += GitConfiguredPaths.commandPaths(value)
                }
            }
        }
    }

    /// Whether the key (lowercased, `section.subsection.name`) makes git run its value as a
    /// command in the commands a user runs next: `git status` (fsmonitor), `git diff` and
    /// `git add` (filters, textconv, diff and merge drivers), an alias, a credential or
    /// signing helper, an editor or a pager. The same keys Doer's own git resets.
    static func namesProgram(_ key: String, value: String) -> Bool {
        let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, let section = parts.first, let name = parts.last else { return false }
        let scoped = parts.count > 2
        switch (section, name, scoped) {
        case ("core", "fsmonitor", false):
            return !["true", "false", "yes", "no", "on", "off", "1", "0"].contains(value.lowercased())
        case ("core", "editor", false), ("core", "pager", false), ("core", "askpass", false), ("core", "sshcommand", false),
             ("core", "alternaterefscommand", false), ("core", "gitproxy", _), ("sequence", "editor", false),
             ("diff", "external", false), ("interactive", "difffilter", false), ("imap", "tunnel", false),
             ("web", "browser", false), ("gpg", "program", _), ("credential", "helper", _), ("pager", _, false),
             ("sendemail", "smtpserver", _), ("sendemail", "tocmd", _), ("sendemail", "cccmd", _):
            return true
        case ("diff", "command", true), ("diff", "textconv", true), ("merge", "driver", true), ("filter", "clean", true),
             ("filter", "smudge", true), ("filter", "process", true), ("difftool", "cmd", true), ("difftool", "path", true),
             ("mergetool", "cmd", true), ("mergetool", "path", true), ("guitool", "cmd", true), ("browser", "cmd", true),
             ("browser", "path", true), ("man", "cmd", true), ("man", "path", true), ("trailer", "command", true),
             ("trailer", "cmd", true), ("hook", "command", true), ("gpg", "defaultkeycommand", true),
             ("lfs", "path", true), ("lfs", "clean", true), ("lfs", "smudge", true), ("lfs", "standalonetransferagent", false),
             ("remote", "uploadpack", true), ("remote", "receivepack", true):
            return true
        case ("alias", _, _), ("submodule", "update", true):
            // Only "!command" runs a command; otherwise it names git's own.
            return value.hasPrefix("!")
        default:
            return false
        }
    }

    /// The words of a command that may name a file of the work tree, which git runs it from
    /// (`sh tools/fsmon.sh` → `tools/fsmon.sh`; `./lint` → `./lint`): every word but a
    /// first one looked up on the PATH, options and git's placeholders (`%f`). A word is
    /// taken as a path even when no such file exists yet: the run could create it.
    static func commandPaths(_ command: String) -> [String] {
        let text = command.hasPrefix("!") ? String(command.dropFirst()) : command
        var paths: [String] = []
        // Each shell command of a list or pipeline starts with a program of its own.
        for segment in text.split(whereSeparator: { ";|&\n".contains($0) }) {
            let words = segment.split(whereSeparator: { " \t\"'()<>`$={}".contains($0) }).map(String.init)
            for (index, word) in words.enumerated() {
                if word.hasPrefix("-") || word.contains("%") || word.contains("*") { continue }
                if index == 0 && !word.contains("/") { continue }
                paths.append(word)
            }
        }
        return paths
    }

    /// What the hooks in `hooks` run from the work tree when a hook manager wrote them:
    /// husky's hooks folder is `.husky/_`, whose hooks run the scripts beside it in `.husky`;
    /// pre-commit's hooks run what its `--config` file names (`repo: local` entries are
    /// any command); lefthook's run what its `lefthook.yml` names.
    static func managedHookFiles(hooks: String, workTree: String) -> [String] {
        var found: [String] = []
        if (hooks as NSString).lastPathComponent == "_" { found.append((hooks as NSString).deletingLastPathComponent) }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: hooks)) ?? []
        for name in names where !name.hasSuffix(".sample") {
            guard let script = contents(hooks + "/" + name) else { continue }
            if script.contains("pre-commit.com") || script.contains("pre_commit") {
                let configs = script.split(whereSeparator: { " \t\n\"'()".contains($0) })
                    .filter { $0.hasPrefix("--config=") }.map { String($0.dropFirst("--config=".count)) }
                found += (configs.isEmpty ? [".pre-commit-config.yaml"] : configs).map { workTree + "/" + $0 }
            }
            if script.lowercased().contains("lefthook") {
                found += ["lefthook", ".lefthook", "lefthook-local", ".lefthook-local"].flatMap { stem in
                    ["yml", "yaml", "json", "toml"].map { workTree + "/" + stem + "." + $0 }
                } + [workTree + "/.lefthook", workTree + "/.config/lefthook.yml", workTree + "/.config/lefthook.yaml"]
            }
        }
        return found
    }

    /// The system and global files git reads in every repository.
    static func sharedConfigFiles(_ environment: [String: String]) -> [String] {
        var files: [String] = []
        if environment["GIT_CONFIG_NOSYSTEM"].map({ $0.isEmpty || $0 == "0" || $0 == "false" }) ?? true {
            files.append(environment["GIT_CONFIG_SYSTEM"] ?? "/etc/gitconfig")
        }
        if let global = environment["GIT_CONFIG_GLOBAL"] {
            files.append(global)
        } else {
            if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
                files.append(xdg + "/git/config")
            } else if let home = environment["HOME"] {
                files.append(home + "/.config/git/config")
            }
            if let home = environment["HOME"] { files.append(home + "/.gitconfig") }
        }
        return files
    }

    /// The git folder and common folder of the repository whose work tree is `workTree`:
    /// `.git` itself, or where its `gitdir:` file leads.
    static func gitDirectories(workTree: String) -> (String, String)? {
        let dotGit = workTree + "/.git"
        var gitDirectory = dotGit
        var info = stat()
        guard stat(dotGit, &info) == 0 else { return nil }
        if info.st_mode & S_IFMT == S_IFREG {
            guard let text = contents(dotGit), text.hasPrefix("gitdir:") else { return nil }
            let named = text.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespacesAndNewlines)
            gitDirectory = named.hasPrefix("/") ? named : workTree + "/" + named
        }
        var commonDirectory = gitDirectory
        if let common = contents(gitDirectory + "/commondir")?.trimmingCharacters(in: .whitespacesAndNewlines), !common.isEmpty {
            commonDirectory = common.hasPrefix("/") ? common : gitDirectory + "/" + common
        }
        return (gitDirectory, commonDirectory)
    }

    /// The nearest folder above `root` that holds a `.git`: its repository's configuration
    /// applies to the workspace too.
    static func enclosingWorkTree(of root: String) -> String? {
        var folder = root
        while folder != "/" && !folder.isEmpty {
            folder = (folder as NSString).deletingLastPathComponent
            var info = stat()
            if lstat(folder + "/.git", &info) == 0 { return folder }
        }
        return nil
    }

    /// `value` as an absolute path: `~/` is the home folder, a relative path is taken from `base`.
    static func absolute(_ value: String, base: String, home: String?) -> String? {
        if value.hasPrefix("~/") { return home.map { $0 + value.dropFirst(1) } }
        if value.hasPrefix("~") || value.hasPrefix("%(") { return nil }
        return value.hasPrefix("/") ? value : base + "/" + value
    }

    /// Where an absolute path lies in the workspace: as written, and with the links on its
    /// way that exist now followed (a `.githooks -> tools/hooks` link makes both count).
    static func relative(_ path: String, to root: String) -> [String] {
        var found: Set<String> = []
        let roots = Set([root, URL(fileURLWithPath: root).resolvingSymlinksInPath().path])
        for candidate in [lexical(path), resolved(path)] {
            for root in roots where candidate.hasPrefix(root + "/") {
                found.insert(String(candidate.dropFirst(root.count + 1)))
            }
        }
        return Array(found)
    }

    /// `.` and `..` taken away as text.
    static func lexical(_ path: String) -> String {
        var parts: [Substring] = []
        for component in path.split(separator: "/") {
            if component == "." { continue }
            if component == ".." { _ = parts.popLast(); continue }
            parts.append(component)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The path with every link on the way that exists now followed; what does not exist
    /// yet is appended as written.
    static func resolved(_ path: String) -> String {
        var existing = lexical(path)
        var rest: [String] = []
        while existing != "/" {
            if let real = realpath(existing, nil) {
                defer { free(real) }
                return lexical(([String(cString: real)] + rest.reversed()).joined(separator: "/"))
            }
            rest.append((existing as NSString).lastPathComponent)
            existing = (existing as NSString).deletingLastPathComponent
        }
        return lexical(path)
    }

    static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// A small text file's contents; nil for anything else (a FIFO must not hold Doer).
    static func contents(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size < 1 << 20,
              let data = try? handle.readToEnd() else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// What a change at `path` (becoming a folder when `staysFolder`) may not do: the
    /// path to refuse and the configured path it would change, or lead elsewhere; nil
    /// when it touches none.
    static func touched(_ path: String, staysFolder: Bool, configured: Set<String>) -> (refuse: String, configured: String)? {
        if configured.isEmpty { return nil }
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
            if configured.contains(prefix) { return (prefix, prefix) }
        }
        if staysFolder { return nil }
        return configured.first { $0.hasPrefix(path + "/") }.map { (path, $0) }
    }
}
