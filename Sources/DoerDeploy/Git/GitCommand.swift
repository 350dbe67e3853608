import DoerProcess
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one place that builds the command line and environment of every `git` Doer runs.
///
/// A repository's configuration and hooks are written by whoever wrote the repository —
/// a clone of someone else's project, a tool, a sandboxed run that reached `.git` — so
/// nothing they name may run on this machine: not before an approval (`git status` for
/// the summary), not after it (switch, commit, push), not on a checkout Doer cloned. Each
/// command therefore runs
/// - on the work tree and git folder Doer found (`--work-tree`, `--git-dir`), never where
///   `core.worktree` points;
/// - with hooks off (`core.hooksPath=/dev/null`), the fsmonitor off, no pager, no editor,
///   no prompts, and every program key the repository sets reset to the host's own value
///   or to nothing (`GitProgramSettings`, `GitConfigSurvey`), passed through
///   `GIT_CONFIG_COUNT` so that any key, whatever its subsection holds, can be named;
/// - with a push or fetch to a repository on this machine running that repository's
///   `receive-pack`/`upload-pack` the same way (`remoteProgram`), since git runs those,
///   and the remote's hooks, here.
///
/// The host's environment and configuration (system, global) are the user's and stay in
/// force, except for the variables that would point git at another repository.
///
/// ```swift
/// let output = try await GitCommand.run(["status", "--porcelain"], in: location)
/// ```
enum GitCommand {
    /// Where a command runs: a work tree and its git folders, as absolute paths.
    struct Location: Sendable, Hashable {
        var workTree: String
        var gitDirectory: String
        var commonDirectory: String
    }

    /// Variables that point git at a repository, index or object store other than the one
    /// Doer chose (set when Doer itself runs from a hook, for instance).
    static let repositoryVariables: Set<String> = [
        "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX", "GIT_IMPLICIT_WORK_TREE", "GIT_GRAFT_FILE", "GIT_SHALLOW_FILE",
        "GIT_QUARANTINE_PATH", "GIT_CONFIG",
    ]

    static var sshCommand: String {
        ProcessInfo.processInfo.environment["GIT_SSH_COMMAND"] ?? "ssh -o BatchMode=yes"
    }

    /// A runner whose programs ask nobody for anything and see `overrides` as command-line
    /// configuration, after any the host set itself.
    static func runner(overrides: [(key: String, value: String)]) -> ProcessRunner {
        let host = ProcessInfo.processInfo.environment
        var environment: [String: String] = [
            // Never ask for credentials on the terminal: a push or clone either has them or fails.
            "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": "",
            "GIT_SSH_COMMAND": sshCommand,
            // core.gitProxy keeps the first value read (the repository's): an empty
            // variable wins over every configured proxy command.
            "GIT_PROXY_COMMAND": host["GIT_PROXY_COMMAND"] ?? "",
            "GIT_EDITOR": ":", "GIT_SEQUENCE_EDITOR": ":", "GIT_PAGER": "cat",
        ]
        let start = host["GIT_CONFIG_COUNT"].flatMap { Int($0) }.map { max(0, $0) } ?? 0
        for (offset, setting) in overrides.enumerated() {
            environment["GIT_CONFIG_KEY_\(start + offset)"] = setting.key
            environment["GIT_CONFIG_VALUE_\(start + offset)"] = setting.value
        }
        if start + overrides.count > 0 { environment["GIT_CONFIG_COUNT"] = String(start + overrides.count) }
        return ProcessRunner(environment: .inherited(setting: environment, unsetting: repositoryVariables))
    }

    /// The overrides for commands in `location`, after reading its configuration; throws
    /// when it sets something no override can neutralise.
    static func overrides(for location: Location) async throws(DeployError) -> [(key: String, value: String)] {
        let survey = try await GitConfigSurvey.read(gitDirectory: location.gitDirectory, commonDirectory: location.commonDirectory,
                                                    runner: runner(overrides: []))
        if let (entry, reason) = survey.refusal {
            throw .unsafeRepository(path: location.workTree, setting: entry.key, file: entry.origin, reason: reason)
        }
        try checkReadFiles(survey, in: location)
        return survey.overrides(fixed: GitProgramSettings.fixed(sshCommand: sshCommand))
    }

    /// Files git reads that a repository names, in its configuration or by their place in
    /// its git folders: a pipe (or a device, a socket) there leaves git — and the deploy
    /// waiting on it, the server's included — blocked for ever (`core.excludesFile` on a
    /// pipe holds `git status` before it prints anything). Missing files are git's to skip.
    static func checkReadFiles(_ survey: GitConfigSurvey, in location: Location) throws(DeployError) {
        var named: [(setting: String, origin: String, path: String)] = []
        for entry in survey.repository where GitProgramSettings.namesReadFile(entry) {
            guard let value = entry.value, !value.isEmpty else { continue }
            // Relative paths are taken from where git runs: the work tree.
            guard let path = GitConfigSurvey.resolveInclude(value, from: location.workTree) else { continue }
            named.append((entry.key, entry.origin, path))
        }
        for (folder, file) in [(location.gitDirectory, "info/exclude"), (location.gitDirectory, "info/attributes"),
                               (location.commonDirectory, "info/exclude"), (location.commonDirectory, "info/attributes"),
                               (location.commonDirectory, "objects/info/alternates"), (location.commonDirectory, "info/grafts"),
                               (location.commonDirectory, "shallow"), (location.commonDirectory, "packed-refs"),
                               (location.gitDirectory, "HEAD"), (location.gitDirectory, "index")] {
            named.append(("its \(file)", folder, folder + "/" + file))
        }
        for (setting, origin, path) in named {
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            let type = info.st_mode & S_IFMT
            guard type != S_IFREG && type != S_IFDIR else { continue }
            throw .unsafeRepository(path: location.workTree, setting: setting, file: origin,
                                    reason: "\(path) is not a regular file, and git would wait on it for ever")
        }
    }

    /// Runs `git ARGUMENTS` in `location`, or outside any repository (a clone) in `directory`.
    /// `extra` settings come after the repository's overrides.
    static func run(_ arguments: [String], in location: Location?, directory: String? = nil,
                    extra: [(key: String, value: String)] = []) async throws(DeployError) -> ProcessOutput {
        var prefix = ["--no-pager"]
        let settings: [(key: String, value: String)]
        if let location {
            prefix += ["-C", location.workTree, "--git-dir=\(location.gitDirectory)", "--work-tree=\(location.workTree)"]
            settings = try await overrides(for: location)
        } else {
            if let directory { prefix += ["-C", directory] }
            settings = GitProgramSettings.fixed(sshCommand: sshCommand)
        }
        return try await run(prefix + arguments, runner: runner(overrides: settings + extra))
    }

    /// Runs `git ARGUMENTS` with `runner`; git missing, or printing more than Doer reads,
    /// is a configuration error (its output would be parsed incomplete).
    static func run(_ arguments: [String], runner: ProcessRunner) async throws(DeployError) -> ProcessOutput {
        let output: ProcessOutput
        do {
            output = try await runner.run("git", arguments)
        } catch {
            throw .configuration("cannot run git (\(error)); install it (apt-get install git)")
        }
        if output.truncated {
            throw .configuration("git \(arguments.first ?? "") printed more than \(runner.outputLimit) bytes")
        }
        return output
    }

    /// The `--receive-pack`/`--upload-pack` program for a push to or a fetch from a
    /// repository on this machine: git runs it here, through the shell, in that repository,
    /// without Doer's environment (git clears it when crossing into another repository), so
    /// the overrides travel in the command itself. `service` is `receive-pack` or `upload-pack`.
    static func remoteProgram(_ service: String, for remote: Location?) async throws(DeployError) -> String {
        var settings = GitProgramSettings.fixed(sshCommand: sshCommand)
        if let remote { settings = try await overrides(for: remote) }
        var words = ["GIT_CONFIG_COUNT=\(settings.count)"]
        for (index, setting) in settings.enumerated() {
            words.append("GIT_CONFIG_KEY_\(index)=\(shellQuoted(setting.key))")
            words.append("GIT_CONFIG_VALUE_\(index)=\(shellQuoted(setting.value))")
        }
        return (words + ["git", service]).joined(separator: " ")
    }

    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
