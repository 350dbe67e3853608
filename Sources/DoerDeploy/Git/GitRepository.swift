public import Foundation
import DoerStore
public import DoerProcess
#if canImport(Glibc)
import Glibc
#endif

/// The real `git` binary, run in one working tree through `GitCommand`, so that nothing
/// the repository's configuration or hooks name runs. Never force-pushes.
public struct GitRepository: Sendable {
    public struct Commit: Sendable, Hashable {
        public var sha: String
        public var files: [(status: String, path: String)]
        public static func == (a: Commit, b: Commit) -> Bool { a.sha == b.sha }
        public func hash(into hasher: inout Hasher) { hasher.combine(sha) }
    }

    public let root: URL
    let location: GitCommand.Location

    /// Opens the repository that contains `directory`. The work tree is the folder whose
    /// `.git` leads to the repository git finds from there — never where the repository's
    /// `core.worktree` points, which is only text in its configuration.
    public init(directory: URL) async throws(DeployError) {
        // git reads the repository's configuration, includes and all, as soon as it finds
        // it: the files are checked first, for one that would hold git waiting for ever.
        var above = directory.standardizedFileURL
        while true {
            if let folders = GitConfigSurvey.folders(ofDotGit: above.appendingPathComponent(".git").path) {
                _ = try await GitConfigSurvey.repositoryEntries(gitDirectory: folders.gitDirectory, commonDirectory: folders.commonDirectory,
                                                                runner: GitCommand.runner(overrides: []))
                break
            }
            let parent = above.deletingLastPathComponent()
            if parent.path == above.path { break }
            above = parent
        }
        let found = try await GitCommand.run(["rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir"],
                                             in: nil, directory: directory.path)
        let folders = found.stdout.split(separator: "\n").map(String.init)
        if !found.succeeded, found.stderr.contains("dubious ownership") {
            // Someone else's repository: git's own message says how to trust it.
            throw .gitFailed(command: "git rev-parse", status: found.statusDescription, output: found.tail())
        }
        guard found.succeeded, folders.count == 2 else { throw .notARepository(directory.path) }
        var candidate = directory.standardizedFileURL
        while true {
            let dotGit = candidate.appendingPathComponent(".git").path
            var info = stat()
            if lstat(dotGit, &info) == 0, let opened = try? await Self.folders(ofGitPath: dotGit),
               Self.sameFile(opened.gitDirectory, folders[0]) {
                root = candidate
                location = GitCommand.Location(workTree: candidate.path, gitDirectory: opened.gitDirectory,
                                               commonDirectory: opened.commonDirectory)
                return
            }
            let parent = candidate.deletingLastPathComponent()
            if parent.path == candidate.path { throw .notARepository(directory.path) }
            candidate = parent
        }
    }

    /// The git folder and common folder that `path` (a `.git` folder, a gitfile, or a bare
    /// repository) leads to; nil when it is not a repository.
    static func folders(ofGitPath path: String) async throws(DeployError) -> (gitDirectory: String, commonDirectory: String)? {
        if let folders = GitConfigSurvey.folders(ofDotGit: path) {
            _ = try await GitConfigSurvey.repositoryEntries(gitDirectory: folders.gitDirectory, commonDirectory: folders.commonDirectory,
                                                            runner: GitCommand.runner(overrides: []))
        }
        let output = try await GitCommand.run(["--git-dir=\(path)", "rev-parse", "--path-format=absolute", "--git-dir",
                                               "--git-common-dir"], in: nil)
        let lines = output.stdout.split(separator: "\n").map(String.init)
        return output.succeeded && lines.count == 2 ? (lines[0], lines[1]) : nil
    }

    static func sameFile(_ a: String, _ b: String) -> Bool {
        var first = stat(), second = stat()
        return stat(a, &first) == 0 && stat(b, &second) == 0 && first.st_dev == second.st_dev && first.st_ino == second.st_ino
    }

    /// The repository at `path` on this machine, found the way `receive-pack` and
    /// `upload-pack` find it (`path/.git`, `path`, `path.git/.git`, `path.git`).
    static func local(at path: String) async throws(DeployError) -> GitCommand.Location? {
        for candidate in [path + "/.git", path, path + ".git/.git", path + ".git"] {
            var info = stat()
            guard stat(candidate, &info) == 0, let opened = try await folders(ofGitPath: candidate) else { continue }
            return GitCommand.Location(workTree: path, gitDirectory: opened.gitDirectory, commonDirectory: opened.commonDirectory)
        }
        return nil
    }

    /// Clones `remote` into `directory` (which must not exist yet) and opens the clone.
    public static func clone(_ remote: String, into directory: URL) async throws(DeployError) -> GitRepository {
        guard !remote.hasPrefix("-") else { throw .configuration("'\(remote)' is not a remote") }
        let parent = directory.deletingLastPathComponent().path
        let expanded = try await GitCommand.run(["ls-remote", "--get-url", "--", remote], in: nil, directory: parent)
        let url = expanded.succeeded ? expanded.stdout.trimmingCharacters(in: .newlines) : remote
        let transport = try await transportOptions(for: [url], service: "upload-pack", option: "--upload-pack", directory: parent)
        let output = try await GitCommand.run(["clone", "--quiet", "--no-tags"] + transport.arguments + ["--", remote, directory.path],
                                              in: nil, directory: parent, extra: transport.settings)
        guard output.succeeded else {
            throw .gitFailed(command: "git clone \(SecretRedactor().redact(remote))", status: output.statusDescription,
                             output: output.tail())
        }
        return try await GitRepository(directory: directory)
    }

    /// The options for talking to `urls`: a repository on this machine gets its
    /// `receive-pack`/`upload-pack` run without hooks or configured programs (git would run
    /// them here), and only the transport that was judged is allowed, so a URL rewritten to
    /// another kind on the way fails instead of going where nobody looked.
    static func transportOptions(for urls: [String], service: String, option: String, directory: String) async throws(DeployError)
        -> (arguments: [String], settings: [(key: String, value: String)]) {
        let local = urls.compactMap { GitRemoteURL.localPath($0, relativeTo: directory) }
        if local.isEmpty { return ([], [("protocol.file.allow", "never")]) }
        guard local.count == 1, urls.count == 1 else {
            throw .configuration("the remote has several URLs (\(urls.map { SecretRedactor().redact($0) }.joined(separator: ", "))), "
                + "one of them on this machine; push to one URL at a time (--remote URL)")
        }
        let program = try await GitCommand.remoteProgram(service, for: try await Self.local(at: local[0]))
        let settings: [(key: String, value: String)] = [("protocol.allow", "never"), ("protocol.file.allow", "always")]
            + ["git", "ssh", "http", "https", "ext"].map { ("protocol.\($0).allow", "never") }
        return (["\(option)=\(program)"], settings)
    }

    /// Runs `git ARGS` in the work tree; a failure becomes `DeployError.gitFailed`.
    @discardableResult
    public func git(_ arguments: [String]) async throws(DeployError) -> String {
        let output = try await gitOutput(arguments)
        guard output.succeeded else {
            throw .gitFailed(command: "git " + arguments.joined(separator: " "), status: output.statusDescription, output: output.tail())
        }
        return output.stdout
    }

    public func gitOutput(_ arguments: [String]) async throws(DeployError) -> ProcessOutput {
        try await gitOutput(arguments, extra: [])
    }

    func gitOutput(_ arguments: [String], extra: [(key: String, value: String)]) async throws(DeployError) -> ProcessOutput {
        do {
            return try await GitCommand.run(arguments, in: location, extra: extra)
        } catch DeployError.configuration(let message) {
            throw .gitFailed(command: "git " + arguments.joined(separator: " "), status: "could not start", output: message)
        }
    }

    public func currentBranch() async throws(DeployError) -> String? {
        let output = try await gitOutput(["symbolic-ref", "--short", "-q", "HEAD"])
        let name = output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return output.succeeded && !name.isEmpty ? name : nil
    }

    /// Paths with uncommitted changes (tracked or not), as `git status --porcelain` shows them.
    /// A submodule shows when its commit changed; its own files are not looked at (that
    /// would run git inside it).
    public func pendingChanges() async throws(DeployError) -> [String] {
        try await git(["status", "--porcelain=v1", "--untracked-files=all", "--ignore-submodules=dirty"])
            .split(separator: "\n").map(String.init)
    }

    public func validateBranchName(_ name: String) async throws(DeployError) {
        guard !name.hasPrefix("-"), !name.contains(":"), !name.hasPrefix("+") else {
            throw .invalidBranch("'\(name)' is not a usable branch name")
        }
        let output = try await gitOutput(["check-ref-format", "--branch", name])
        guard output.succeeded else { throw .invalidBranch("'\(name)' is not a valid git branch name") }
    }

    /// Switches to `name`, creating it at the current commit when it does not exist.
    /// Uncommitted changes come along.
    public func switchToBranch(_ name: String) async throws(DeployError) {
        try await validateBranchName(name)
        if try await currentBranch() == name { return }
        let exists = try await gitOutput(["rev-parse", "--verify", "-q", "refs/heads/\(name)"]).succeeded
        try await git(exists ? ["switch", "--quiet", "--no-recurse-submodules", name]
                             : ["switch", "--quiet", "--no-recurse-submodules", "-c", name])
    }

    /// Stages everything and commits it; nil when there was nothing to commit.
    public func commitAll(message: String, identity: (name: String, email: String)) async throws(DeployError) -> Commit? {
        // `add` runs `git status` inside each submodule to see whether it changed: their
        // configuration is neutralised for it too.
        let nested = try await nestedOverrides()
        let added = try await gitOutput(["add", "-A"], extra: nested)
        guard added.succeeded else {
            throw .gitFailed(command: "git add -A", status: added.statusDescription, output: added.tail())
        }
        let staged = try await gitOutput(["diff", "--cached", "--quiet", "--no-ext-diff", "--no-textconv"])
        if staged.succeeded { return nil }
        var arguments: [String] = []
        let configuredEmail = try await gitOutput(["config", "user.email"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        if configuredEmail.isEmpty {
            arguments += ["-c", "user.name=\(identity.name)", "-c", "user.email=\(identity.email)"]
        }
        try await git(arguments + ["commit", "--quiet", "--no-verify", "-m", message])
        return try await headCommit()
    }

    /// Resets for the program keys of every repository nested in this one as a submodule
    /// (and theirs, a few levels down), for the commands that run git inside them.
    func nestedOverrides() async throws(DeployError) -> [(key: String, value: String)] {
        var result: [(key: String, value: String)] = []
        var pending = [(location, 0)]
        var seen: Set<String> = [location.gitDirectory]
        while let (current, depth) = pending.popLast().map({ ($0.0, $0.1) }), seen.count <= 64 {
            let listing = try await GitCommand.run(["ls-files", "--stage", "-z"], in: current)
            guard listing.succeeded else { continue }
            for record in listing.stdout.split(separator: "\0") where record.hasPrefix("160000 ") {
                guard let tab = record.firstIndex(of: "\t") else { continue }
                let path = current.workTree + "/" + record[record.index(after: tab)...]
                guard let opened = try await Self.folders(ofGitPath: path + "/.git"),
                      seen.insert(opened.gitDirectory).inserted else { continue }
                let nested = GitCommand.Location(workTree: path, gitDirectory: opened.gitDirectory, commonDirectory: opened.commonDirectory)
                result += try await GitCommand.overrides(for: nested)
                if depth < 4 { pending.append((nested, depth + 1)) }
            }
        }
        return result
    }

    public func headCommit() async throws(DeployError) -> Commit {
        let sha = try await git(["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let listing = try await git(["show", "--no-renames", "--no-ext-diff", "--no-textconv", "--name-status", "--format=", "HEAD"])
        let files = listing.split(separator: "\n").compactMap { line -> (status: String, path: String)? in
            let parts = line.split(separator: "\t", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            return (String(parts[0]), String(parts[1]))
        }
        return Commit(sha: sha, files: files)
    }

    /// Pushes the local branch to the same name on `remote`. Only fast-forwards: there is
    /// no force, and a refspec is built here, never taken from outside.
    public func push(remote: String, branch: String) async throws(DeployError) -> String {
        try await validateBranchName(branch)
        guard !remote.hasPrefix("-") else { throw .configuration("'\(remote)' is not a remote") }
        let transport = try await Self.transportOptions(for: try await pushURLs(remote), service: "receive-pack",
                                                        option: "--receive-pack", directory: root.path)
        let output = try await gitOutput(["push", "--porcelain", "--no-recurse-submodules"] + transport.arguments
                                            + ["--", remote, "refs/heads/\(branch):refs/heads/\(branch)"],
                                         extra: transport.settings)
        guard output.succeeded else {
            throw .pushFailed(remote: remote, branch: branch, output: output.tail())
        }
        return output.stdout
    }

    /// The URLs a push to `remote` (a remote's name or a URL) goes to, as git rewrites them.
    func pushURLs(_ remote: String) async throws(DeployError) -> [String] {
        let named = try await gitOutput(["remote", "get-url", "--push", "--all", "--", remote])
        if named.succeeded {
            return named.stdout.split(separator: "\n").map(String.init)
        }
        let listing = try await gitOutput(["config", "--list", "--includes", "-z"])
        return [GitRemoteURL.pushURL(remote, configuration: GitConfigEntry.parse(listing.stdout, withScope: false))]
    }

    /// The commit `branch` points to on `remote`, or nil when it is not there.
    public func remoteHead(remote: String, branch: String) async throws(DeployError) -> String? {
        guard !remote.hasPrefix("-") else { throw .configuration("'\(remote)' is not a remote") }
        let url = try await gitOutput(["ls-remote", "--get-url", "--", remote]).stdout.trimmingCharacters(in: .newlines)
        let transport = try await Self.transportOptions(for: [url], service: "upload-pack", option: "--upload-pack",
                                                        directory: root.path)
        let output = try await gitOutput(["ls-remote", "--heads"] + transport.arguments + ["--", remote, "refs/heads/\(branch)"],
                                         extra: transport.settings)
        guard output.succeeded else {
            throw .gitFailed(command: "git ls-remote \(SecretRedactor().redact(remote))", status: output.statusDescription,
                             output: output.tail())
        }
        return output.stdout.split(separator: "\n").first.flatMap { $0.split(separator: "\t").first.map(String.init) }
    }

    /// Where a push to `remote` goes: the push URL of a remote's name, or the argument
    /// itself when it is already a URL.
    public func remoteURL(_ remote: String) async -> String {
        guard let output = try? await gitOutput(["remote", "get-url", "--push", "--", remote]), output.succeeded else { return remote }
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
