import DoerCore
import DoerProcess
public import Foundation

/// A fresh clone of the remote, on its base branch, with a session's applied changes copied
/// onto it: what a deploy of a workspace that is not itself a git checkout (the server's
/// session workspaces) commits and pushes, so the branch and its pull request hold the
/// change and nothing else.
///
/// Only regular files are carried. A path that leaves the tree, goes into a `.git`, is a
/// link in the workspace, or is reached through a link — in the workspace or in the clone,
/// whose files come from the remote and may be links pointing anywhere — is refused: every
/// folder on the way is opened without following links (`NoFollowFiles`). Everything is
/// read before anything is cloned or written, so a refused change copies nothing.
public enum ChangeCheckout {
    public static func prepare(remote: String, baseBranch: String, workspace: URL, changes: [FileChange],
                               into directory: URL) async throws(DeployError) -> GitRepository {
        guard !changes.isEmpty else {
            throw .nothingToDeploy("the session has no applied change to deploy; approve the agent's change first")
        }
        for change in changes { try validate(change.path) }
        let contents = try changes.map { change throws(DeployError) in
            (change.path, try NoFollowFiles.read(change.path, under: workspace))
        }
        let repository = try await GitRepository.clone(remote, into: directory)
        if try await repository.gitOutput(["rev-parse", "--verify", "-q", "refs/remotes/origin/\(baseBranch)"]).succeeded {
            _ = try await repository.git(["checkout", "--quiet", "--no-recurse-submodules", "-B", baseBranch,
                                          "refs/remotes/origin/\(baseBranch)"])
        }
        for (path, found) in contents {
            switch found {
            case .regular(let data, let mode):
                try NoFollowFiles.write(data, mode: mode, to: path, under: repository.root)
            case .missing:
                // Gone from the workspace: the branch loses it too.
                try NoFollowFiles.remove(path, under: repository.root)
            }
        }
        return repository
    }

    static func validate(_ path: String) throws(DeployError) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !path.hasPrefix("/"), !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }),
              !parts.contains(where: { $0.lowercased() == ".git" }), !path.contains("\0") else {
            throw .unsafePath("'\(path)' is not a path inside the workspace; it cannot be deployed")
        }
    }
}
