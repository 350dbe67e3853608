import Foundation
import DoerProcess
#if canImport(Glibc)
import Glibc
#endif

/// What a repository's own configuration sets, read before each git command Doer runs on
/// it, and the overrides that leave none of its programs in force.
///
/// Every file is read, not only what git would include right now: `includeIf
/// "onbranch:…"` switches on when a deploy changes branch, and `hasconfig:` or `gitdir:`
/// conditions can differ between two commands. Reading an included file runs nothing.
struct GitConfigSurvey: Sendable {
    /// Lines of the repository's own files (and everything they include).
    var repository: [GitConfigEntry]
    /// Lines of the host's configuration: system, global, and the command line's.
    var host: [GitConfigEntry]

    /// git stops following includes this deep; so does the survey.
    static let includeDepth = 10

    /// Reads the configuration git uses for the repository whose git folders are given.
    static func read(gitDirectory: String, commonDirectory: String, runner: ProcessRunner) async throws(DeployError) -> GitConfigSurvey {
        // The repository's own files first: the listing below follows their includes too.
        let repository = try await repositoryEntries(gitDirectory: gitDirectory, commonDirectory: commonDirectory, runner: runner)
        let listing = try await config(["--git-dir=\(gitDirectory)", "config", "--list", "--show-scope", "--includes", "-z"],
                                       runner: runner, what: "the configuration of \(gitDirectory)")
        let host = GitConfigEntry.parse(listing, withScope: true).filter { ["system", "global", "command"].contains($0.origin) }
        return GitConfigSurvey(repository: repository, host: host)
    }

    /// The lines of the repository's own files and of everything they include; throws for a
    /// file git would block on. Runs no git on the repository itself (`git config --file`
    /// reads one file), so it is safe before git has looked at the repository at all.
    static func repositoryEntries(gitDirectory: String, commonDirectory: String, runner: ProcessRunner) async throws(DeployError)
        -> [GitConfigEntry] {
        var repository: [GitConfigEntry] = []
        var visited: Set<String> = []
        for file in [commonDirectory + "/config", gitDirectory + "/config.worktree"] {
            try await survey(file, includedBy: nil, depth: 0, into: &repository, visited: &visited, gitDirectory: gitDirectory,
                             runner: runner)
        }
        return repository
    }

    /// The git folder and common folder a `.git` (folder or gitfile) leads to, read from the
    /// files themselves, as git does before it reads any configuration.
    static func folders(ofDotGit path: String) -> (gitDirectory: String, commonDirectory: String)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        var git = path
        if (info.st_mode & S_IFMT) == S_IFREG {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8), text.hasPrefix("gitdir: ") else { return nil }
            let target = text.dropFirst("gitdir: ".count).trimmingCharacters(in: .whitespacesAndNewlines)
            git = target.hasPrefix("/") ? target : (path as NSString).deletingLastPathComponent + "/" + target
        }
        var common = git
        if let text = try? String(contentsOfFile: git + "/commondir", encoding: .utf8) {
            let target = text.trimmingCharacters(in: .whitespacesAndNewlines)
            common = target.hasPrefix("/") ? target : git + "/" + target
        }
        return (git, common)
    }

    private static func survey(_ path: String, includedBy: GitConfigEntry?, depth: Int, into entries: inout [GitConfigEntry],
                               visited: inout Set<String>, gitDirectory: String, runner: ProcessRunner) async throws(DeployError) {
        var info = stat()
        guard depth <= includeDepth, stat(path, &info) == 0, visited.insert(path).inserted else { return }
        let type = info.st_mode & S_IFMT
        if type == S_IFDIR { return }
        // A pipe or a device would hold git (and Doer) waiting for ever.
        guard type == S_IFREG else {
            throw .unsafeRepository(path: gitDirectory, setting: includedBy?.key ?? "its configuration file",
                                    file: includedBy?.origin ?? path,
                                    reason: "\(path) is not a regular file, and git would wait on it for ever")
        }
        let text = try await config(["config", "--file", path, "--list", "--no-includes", "-z"], runner: runner,
                                    what: "the configuration file \(path)")
        let found = GitConfigEntry.parse(text, withScope: false, origin: path)
        entries += found
        let folder = (path as NSString).deletingLastPathComponent
        for entry in found where entry.variable == "path" && (entry.section == "include" || entry.section == "includeif") {
            guard let value = entry.value else { continue }
            var included = resolveInclude(value, from: folder)
            if included == nil, value.hasPrefix("~") || value.hasPrefix("%(prefix)/") {
                included = try await interpolated(value, runner: runner)
            }
            guard let included else { continue }
            try await survey(included, includedBy: entry, depth: depth + 1, into: &entries, visited: &visited,
                             gitDirectory: gitDirectory, runner: runner)
        }
    }

    /// `~user/…` and `%(prefix)/…`, expanded by git itself (another user's home folder
    /// is as good a place for a hostile include as any).
    static func interpolated(_ value: String, runner: ProcessRunner) async throws(DeployError) -> String? {
        var runner = runner
        runner.environment = runner.environment.setting("GIT_CONFIG_COUNT", to: "1")
            .setting("GIT_CONFIG_KEY_0", to: "doer.include").setting("GIT_CONFIG_VALUE_0", to: value)
        let output = try? await runner.run("git", ["config", "--type=path", "--get", "doer.include"])
        guard let output, output.succeeded else { return nil }
        let path = output.stdout.trimmingCharacters(in: .newlines)
        return path.hasPrefix("/") ? path : nil
    }

    /// git's rules for an include's path: `~/` is the home folder, a relative path is
    /// relative to the including file's folder.
    static func resolveInclude(_ value: String, from folder: String) -> String? {
        if value.isEmpty { return nil }
        if value.hasPrefix("~/") || value == "~" {
            let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
            return home + String(value.dropFirst(1))
        }
        // `~user/` and `%(prefix)/` name the host's own files.
        if value.hasPrefix("~") || value.hasPrefix("%(prefix)/") { return nil }
        if value.hasPrefix("/") { return value }
        return folder + "/" + value
    }

    private static func config(_ arguments: [String], runner: ProcessRunner, what: String) async throws(DeployError) -> String {
        let output = try await GitCommand.run(arguments, runner: runner)
        // Status 1 with no output: an empty file, or no configuration at all.
        guard output.succeeded || (output.status == 1 && output.stdout.isEmpty) else {
            throw .gitFailed(command: "git config --list (\(what))", status: output.statusDescription, output: output.tail())
        }
        return output.stdout
    }

    /// The first repository setting git would let run a program whatever Doer overrides.
    var refusal: (entry: GitConfigEntry, reason: String)? {
        for entry in repository {
            if case .refuse(let reason) = GitProgramSettings.policy(for: entry) { return (entry, reason) }
        }
        return nil
    }

    /// The `key=value` overrides, in the order git must read them: each program key the
    /// repository sets is reset, then the host's own values for those keys are repeated
    /// in their order (the host's configuration alone decides), then `fixed` last.
    func overrides(fixed: [(key: String, value: String)]) -> [(key: String, value: String)] {
        var result: [(key: String, value: String)] = []
        var reset: Set<String> = []
        func resetKey(_ entry: GitConfigEntry) -> String? {
            guard case .host(_, let shared) = GitProgramSettings.policy(for: entry) else { return nil }
            return shared ?? entry.key
        }
        for entry in repository {
            guard case .host(let neutral, let shared) = GitProgramSettings.policy(for: entry) else { continue }
            let key = shared ?? entry.key
            if reset.insert(key).inserted { result.append((key, neutral)) }
        }
        for entry in host {
            guard let key = resetKey(entry), reset.contains(key) else { continue }
            // A bare key is git's "true".
            result.append((entry.key, entry.value ?? "true"))
        }
        return result + fixed
    }
}
