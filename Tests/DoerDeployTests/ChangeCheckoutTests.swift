import DoerCore
import DoerDeploy
import DoerStore
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("A session's applied change carried onto a fresh clone of the remote")
struct ChangeCheckoutTests {
    @Test("added and modified files are copied onto the base branch, deleted ones removed; nothing else changes")
    func carriesTheChange() async throws {
        let git = try GitFixture()
        try sh("echo old > keep.txt && echo gone > old.txt && git add -A && git commit -q -m more && git push -q origin main", in: git.work)
        let workspace = git.scratch.path("workspace")
        try FileManager.default.createDirectory(at: workspace.appendingPathComponent("src"), withIntermediateDirectories: true)
        try Data("new\n".utf8).write(to: workspace.appendingPathComponent("src/new.py"))
        try Data("changed\n".utf8).write(to: workspace.appendingPathComponent("keep.txt"))
        chmod(workspace.appendingPathComponent("src/new.py").path, 0o755)
        let changes = [FileChange(path: "src/new.py", kind: .added), FileChange(path: "keep.txt", kind: .modified),
                       FileChange(path: "old.txt", kind: .deleted)]
        let clone = try await ChangeCheckout.prepare(remote: "file://\(git.bare.path)", baseBranch: "main", workspace: workspace,
                                                     changes: changes, into: git.scratch.path("clone"))
        #expect(try await clone.currentBranch() == "main")
        #expect(Set(try await clone.pendingChanges()) == [" M keep.txt", " D old.txt", "?? src/new.py"])
        #expect(try String(contentsOf: clone.root.appendingPathComponent("README.md"), encoding: .utf8) == "hello\n")
        let mode = try FileManager.default.attributesOfItem(atPath: clone.root.appendingPathComponent("src/new.py").path)[.posixPermissions] as? Int
        #expect(mode == 0o755)
    }

    @Test("a link in the remote's tree is never written through; paths out of the tree or into .git are refused")
    func refusesUnsafePaths() async throws {
        let git = try GitFixture()
        let outside = git.scratch.path("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try sh("ln -s '\(outside.path)' lib && git add lib && git commit -q -m link && git push -q origin main", in: git.work)
        let workspace = git.scratch.path("workspace")
        try FileManager.default.createDirectory(at: workspace.appendingPathComponent("lib"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: workspace.appendingPathComponent("lib/evil.txt"))
        await #expect(throws: DeployError.self) {
            _ = try await ChangeCheckout.prepare(remote: "file://\(git.bare.path)", baseBranch: "main", workspace: workspace,
                                                 changes: [FileChange(path: "lib/evil.txt", kind: .added)], into: git.scratch.path("c1"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty)
        for path in ["../escape.txt", ".git/config", "sub/.git/hooks/post-checkout", ".GIT/config", "/etc/passwd", "a//b", ""] {
            await #expect(throws: DeployError.self, "\(path)") {
                _ = try await ChangeCheckout.prepare(remote: "file://\(git.bare.path)", baseBranch: "main", workspace: workspace,
                                                     changes: [FileChange(path: path, kind: .added)], into: git.scratch.path("c-\(UUID().uuidString.prefix(4))"))
            }
        }
        // A link in the workspace is not carried either.
        try FileManager.default.createSymbolicLink(atPath: workspace.appendingPathComponent("link.txt").path, withDestinationPath: "/etc/hostname")
        await #expect(throws: DeployError.self) {
            _ = try await ChangeCheckout.prepare(remote: "file://\(git.bare.path)", baseBranch: "main", workspace: workspace,
                                                 changes: [FileChange(path: "link.txt", kind: .added)], into: git.scratch.path("c2"))
        }
    }

    @Test("a workspace folder on a change's path that is a link — to /etc, deeper down, or within the workspace — is refused; nothing is cloned or copied")
    func linkedFolderInWorkspace() async throws {
        let git = try GitFixture()
        let workspace = git.scratch.path("workspace")
        let manager = FileManager.default
        try manager.createDirectory(at: workspace.appendingPathComponent("real"), withIntermediateDirectories: true)
        try manager.createDirectory(at: workspace.appendingPathComponent("deep/er"), withIntermediateDirectories: true)
        try Data("ok\n".utf8).write(to: workspace.appendingPathComponent("real/ok.txt"))
        try manager.createSymbolicLink(atPath: workspace.appendingPathComponent("conf").path, withDestinationPath: "/etc")
        try manager.createSymbolicLink(atPath: workspace.appendingPathComponent("deep/er/etc").path, withDestinationPath: "/etc")
        try manager.createSymbolicLink(atPath: workspace.appendingPathComponent("inside").path, withDestinationPath: "real")
        try manager.createSymbolicLink(atPath: workspace.appendingPathComponent("relative").path, withDestinationPath: "../../../../../../etc")
        for (index, path) in ["conf/hostname", "deep/er/etc/passwd", "inside/ok.txt", "relative/hostname", "conf/not-there"].enumerated() {
            let clone = git.scratch.path("clone-\(index)")
            // A plain change first: it must not be copied either.
            let changes = [FileChange(path: "real/ok.txt", kind: .added), FileChange(path: path, kind: .modified)]
            let error = await #expect(throws: DeployError.self, "\(path)") {
                _ = try await ChangeCheckout.prepare(remote: "file://\(git.bare.path)", baseBranch: "main", workspace: workspace,
                                                     changes: changes, into: clone)
            }
            guard case .unsafePath(let message)? = error else {
                Issue.record("\(path): expected unsafePath, got \(String(describing: error))")
                continue
            }
            #expect(message.contains(path) && message.contains("link"), "\(message)")
            #expect(!manager.fileExists(atPath: clone.path), "\(path): nothing is cloned or copied")
        }
        // Something that is not a regular file at the end of the path is refused without blocking on it.
        #expect(mkfifo(workspace.appendingPathComponent("pipe").path, 0o644) == 0)
        await #expect(throws: DeployError.self) {
            _ = try await ChangeCheckout.prepare(remote: "file://\(git.bare.path)", baseBranch: "main", workspace: workspace,
                                                 changes: [FileChange(path: "pipe", kind: .added)], into: git.scratch.path("clone-pipe"))
        }
        // The same change through real folders goes through.
        let clone = try await ChangeCheckout.prepare(remote: "file://\(git.bare.path)", baseBranch: "main", workspace: workspace,
                                                     changes: [FileChange(path: "real/ok.txt", kind: .added)], into: git.scratch.path("clone-ok"))
        #expect(try await clone.pendingChanges() == ["?? real/ok.txt"])
    }

    @Test("nothing applied, or everything undone: nothing to deploy")
    func nothingApplied() async throws {
        let events: [SessionEvent] = [.agent(.changesApplied(files: [FileChange(path: "a.py", kind: .added), FileChange(path: "b.py", kind: .modified)])),
                                      .undone(paths: ["b.py"]), .agent(.changesApplied(files: [FileChange(path: "a.py", kind: .modified)]))]
        #expect(SessionHistory(events: events).appliedChanges == [FileChange(path: "a.py", kind: .added)])
        #expect(SessionHistory(events: [.agent(.changesApplied(files: [FileChange(path: "a.py", kind: .added)])), .undone(paths: ["a.py"])])
            .appliedChanges.isEmpty)
        let git = try GitFixture()
        await #expect(throws: DeployError.self) {
            _ = try await ChangeCheckout.prepare(remote: "file://\(git.bare.path)", baseBranch: "main", workspace: git.work,
                                                 changes: [], into: git.scratch.path("c"))
        }
    }
}
