import DoerCore
public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A fresh clone of the remote, on its base branch, with a session's applied changes copied
/// onto it: what a deploy of a workspace that is not itself a git checkout (the server's
/// session workspaces) commits and pushes, so the branch and its pull request hold the
/// change and nothing else.
///
/// Only regular files are carried. A path that leaves the tree, goes into `.git`, is a
/// link in the workspace, or would be written through a link in the clone is refused:
/// the clone comes from a remote and may hold links pointing anywhere.
public enum ChangeCheckout {
    public static func prepare(remote: String, baseBranch: String, workspace: URL, changes: [FileChange],
                               into directory: URL) async throws(DeployError) -> GitRepository {
        guard !changes.isEmpty else {
            throw .nothingToDeploy("the session has no applied change to deploy; approve the agent's change first")
        }
        for change in changes { try validate(change.path) }
        let repository = try await GitRepository.clone(remote, into: directory)
        if try await repository.gitOutput(["rev-parse", "--verify", "-q", "refs/remotes/origin/\(baseBranch)"]).succeeded {
            _ = try await repository.git(["checkout", "--quiet", "-B", baseBranch, "refs/remotes/origin/\(baseBranch)"])
        }
        let root = repository.root
        for change in changes {
            let source = workspace.appendingPathComponent(change.path)
            let destination = root.appendingPathComponent(change.path)
            try refuseLinks(in: change.path, under: root)
            var info = stat()
            if lstat(source.path, &info) != 0 {
                // Gone from the workspace: the branch loses it too.
                if lstat(destination.path, &info) == 0 { try remove(destination, path: change.path) }
                continue
            }
            guard (info.st_mode & S_IFMT) == S_IFREG else {
                throw .unsafePath("'\(change.path)' in the workspace is not a regular file; deploys carry regular files only")
            }
            do {
                let data = try Data(contentsOf: source)
                try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
                var existing = stat()
                if lstat(destination.path, &existing) == 0 { try FileManager.default.removeItem(at: destination) }
                try data.write(to: destination)
                chmod(destination.path, mode_t(info.st_mode & 0o777))
            } catch {
                throw .configuration("cannot copy '\(change.path)' onto the checkout: \(error.localizedDescription)")
            }
        }
        return repository
    }

    static func validate(_ path: String) throws(DeployError) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !path.hasPrefix("/"), !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }),
              parts.first != ".git", !path.contains("\0") else {
            throw .unsafePath("'\(path)' is not a path inside the workspace; it cannot be deployed")
        }
    }

    /// Every folder on the way to `path` in the clone must be a real folder (or not exist yet).
    private static func refuseLinks(in path: String, under root: URL) throws(DeployError) {
        var current = root
        for part in path.split(separator: "/").dropLast() {
            current = current.appendingPathComponent(String(part))
            var info = stat()
            guard lstat(current.path, &info) == 0 else { return }
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw .unsafePath("'\(path)' would be written through '\(current.lastPathComponent)', which is not a folder in the repository (a link?); refusing to deploy it")
            }
        }
    }

    private static func remove(_ url: URL, path: String) throws(DeployError) {
        do {
            try FileManager.default.removeItem(at: url)
        } catch {
            throw .configuration("cannot remove '\(path)' from the checkout: \(error.localizedDescription)")
        }
    }
}
