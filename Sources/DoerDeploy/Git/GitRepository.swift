public import Foundation
import DoerStore

/// The real `git` binary, run in one working tree. Never force-pushes.
public struct GitRepository: Sendable {
    public struct Commit: Sendable, Hashable {
        public var sha: String
        public var files: [(status: String, path: String)]
        public static func == (a: Commit, b: Commit) -> Bool { a.sha == b.sha }
        public func hash(into hasher: inout Hasher) { hasher.combine(sha) }
    }

    public let root: URL
    private let runner: CommandRunner

    /// Never ask for credentials on the terminal: a push or clone either has them or fails.
    private static var runner: CommandRunner {
        CommandRunner(environment: ["GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": "",
                                    "GIT_SSH_COMMAND": ProcessInfo.processInfo.environment["GIT_SSH_COMMAND"]
                                        ?? "ssh -o BatchMode=yes"])
    }

    /// Opens the repository that contains `directory`.
    public init(directory: URL) async throws(DeployError) {
        let runner = Self.runner
        let output: CommandRunner.Output
        do {
            output = try await runner.run("git", ["-C", directory.path, "rev-parse", "--show-toplevel"])
        } catch {
            throw .configuration("cannot run git (\(error)); install it (apt-get install git)")
        }
        guard output.succeeded else { throw .notARepository(directory.path) }
        root = URL(fileURLWithPath: output.stdout.trimmingCharacters(in: .whitespacesAndNewlines), isDirectory: true)
        self.runner = runner
    }

    /// Runs `git -C root ARGS`; a failure becomes `DeployError.gitFailed`.
    @discardableResult
    /// Clones `remote` into `directory` (which must not exist yet) and opens the clone.
    public static func clone(_ remote: String, into directory: URL) async throws(DeployError) -> GitRepository {
        guard !remote.hasPrefix("-") else { throw .configuration("'\(remote)' is not a remote") }
        let output: CommandRunner.Output
        do {
            output = try await runner.run("git", ["clone", "--quiet", "--no-tags", "--", remote, directory.path])
        } catch {
            throw .configuration("cannot run git (\(error)); install it (apt-get install git)")
        }
        guard output.succeeded else {
            throw .gitFailed(command: "git clone \(SecretRedactor().redact(remote))", status: output.statusDescription,
                             output: output.tail())
        }
        return try await GitRepository(directory: directory)
    }

    public func git(_ arguments: [String]) async throws(DeployError) -> String {
        let output = try await gitOutput(arguments)
        guard output.succeeded else {
            throw .gitFailed(command: "git " + arguments.joined(separator: " "), status: output.statusDescription, output: output.tail())
        }
        return output.stdout
    }

    public func gitOutput(_ arguments: [String]) async throws(DeployError) -> CommandRunner.Output {
        do {
            return try await runner.run("git", ["-C", root.path] + arguments)
        } catch {
            throw .gitFailed(command: "git " + arguments.joined(separator: " "), status: "could not start", output: "\(error)")
        }
    }

    public func currentBranch() async throws(DeployError) -> String? {
        let output = try await gitOutput(["symbolic-ref", "--short", "-q", "HEAD"])
        let name = output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return output.succeeded && !name.isEmpty ? name : nil
    }

    /// Paths with uncommitted changes (tracked or not), as `git status --porcelain` shows them.
    public func pendingChanges() async throws(DeployError) -> [String] {
        try await git(["status", "--porcelain=v1", "--untracked-files=all"])
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
        try await git(exists ? ["switch", "--quiet", name] : ["switch", "--quiet", "-c", name])
    }

    /// Stages everything and commits it; nil when there was nothing to commit.
    public func commitAll(message: String, identity: (name: String, email: String)) async throws(DeployError) -> Commit? {
        try await git(["add", "-A"])
        let staged = try await gitOutput(["diff", "--cached", "--quiet"])
        if staged.succeeded { return nil }
        var arguments: [String] = []
        let configuredEmail = try await gitOutput(["config", "user.email"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        if configuredEmail.isEmpty {
            arguments += ["-c", "user.name=\(identity.name)", "-c", "user.email=\(identity.email)"]
        }
        try await git(arguments + ["commit", "--quiet", "--no-verify", "-m", message])
        return try await headCommit()
    }

    public func headCommit() async throws(DeployError) -> Commit {
        let sha = try await git(["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let listing = try await git(["show", "--no-renames", "--name-status", "--format=", "HEAD"])
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
        let output = try await gitOutput(["push", "--porcelain", "--", remote, "refs/heads/\(branch):refs/heads/\(branch)"])
        guard output.succeeded else {
            throw .pushFailed(remote: remote, branch: branch, output: output.tail())
        }
        return output.stdout
    }

    /// The commit `branch` points to on `remote`, or nil when it is not there.
    public func remoteHead(remote: String, branch: String) async throws(DeployError) -> String? {
        let listing = try await git(["ls-remote", "--heads", "--", remote, "refs/heads/\(branch)"])
        return listing.split(separator: "\n").first.flatMap { $0.split(separator: "\t").first.map(String.init) }
    }

    /// The URL of a remote's name, or the argument itself when it is already a URL.
    public func remoteURL(_ remote: String) async -> String {
        guard let output = try? await gitOutput(["remote", "get-url", "--", remote]), output.succeeded else { return remote }
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
