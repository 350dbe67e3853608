// Variants of what a run leaves behind, beyond the first probes in LeftBehindTests: links
// that are harmless in each run's own view but lead out once two runs' changes meet in the
// workspace, approval diffs a run tries to draw over with terminal escapes or to blur with
// look-alike text, modes the host must not take over, and applies that fail half-way on a
// full disk or a read-only folder.

import CDoerSandbox
import DoerCore
@testable import DoerSandbox
import Foundation
import Testing

private func entries(_ root: URL) -> [String: String] {
    var out: [String: String] = [:]
    for (path, entry) in FileTree.scan(root.path) {
        switch entry.kind {
        case .file: out[path] = "file \(entry.size) \(entry.modified.tv_sec).\(entry.modified.tv_nsec) \(entry.mode)"
        case .directory: out[path] = "dir \(entry.mode)"
        case .symlink(let target): out[path] = "link \(target)"
        case .other: out[path] = "other"
        }
    }
    return out
}

private func mode(_ ws: ScratchWorkspace, _ path: String) -> mode_t? {
    var info = stat()
    guard lstat(ws.url.appendingPathComponent(path).path, &info) == 0 else { return nil }
    return info.st_mode & 0o7777
}

private func shell(_ command: String) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    do { try process.run() } catch { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
}

@Suite("escape suite 9: links judged on the workspace as the apply finds it")
struct ConcurrentLinkTests {
    /// Two copies of one workspace, as two runs started on it before either applied.
    private func twoCopies(_ ws: ScratchWorkspace) throws -> (WorkspaceCopy, WorkspaceCopy) {
        (try WorkspaceCopy(copying: ws.url, stagingRoot: TestSandboxes.configuration.stagingRoot),
         try WorkspaceCopy(copying: ws.url, stagingRoot: TestSandboxes.configuration.stagingRoot))
    }

    private func link(_ copy: WorkspaceCopy, _ name: String, _ target: String) {
        #expect(symlink(target, copy.directory.appendingPathComponent(name).path) == 0)
    }

    @Test("links each harmless in their own run do not meet in the workspace as a way out", arguments: [
        // (first run's links, second run's links, the link that must not be applied)
        ([["up", "self/.."]], [["self", "."]], "self"),
        ([["self", "."]], [["up", "self/.."]], "up"),
        ([["x", "s/.."]], [["s", "sub/.."]], "s"),
        ([["s", "sub/.."]], [["x", "s/.."]], "x"),
        ([["deep/l", "b/.."]], [["deep/b", ".."]], "deep/b"),
        ([["p", "q/.."]], [["q", "sub/l"], ["sub/l", ".."]], "q"),
    ])
    func concurrent(_ first: [[String]], _ second: [[String]], _ refused: String) throws {
        let ws = try ScratchWorkspace(files: ["sub/file.txt": "x", "deep/keep.txt": "k", "b/keep.txt": "b"])
        let (one, two) = try twoCopies(ws)
        defer { one.discard(); two.discard() }
        for pair in first { link(one, pair[0], pair[1]) }
        for pair in second {
            try? FileManager.default.createDirectory(at: two.directory.appendingPathComponent(pair[0]).deletingLastPathComponent(),
                                                     withIntermediateDirectories: true)
            link(two, pair[0], pair[1])
        }
        // Each alone stays inside the workspace.
        #expect(one.refusals().isEmpty, "\(one.refusals())")
        #expect(two.refusals().isEmpty, "\(two.refusals())")
        _ = try one.apply(one.changes())
        let warnings = try two.apply(two.changes())
        #expect(!ws.exists(refused), "\(refused) was applied and, with the other run's links, leads out of the workspace")
        #expect(warnings.contains { $0.contains(refused) && $0.contains("outside") }, "\(warnings)")
        // Nothing in the workspace resolves outside it now.
        let resolver = TreeLinkResolver(entries: FileTree.scan(ws.url.path))
        for (path, entry) in FileTree.scan(ws.url.path) {
            guard case .symlink = entry.kind else { continue }
            #expect(resolver.resolve(link: path).verdict == .inside, "\(path) leads out")
        }
    }

    @Test("two sandboxed runs on one workspace at once cannot leave a link to its parent")
    func sandboxedRuns() async throws {
        let ws = try ScratchWorkspace(files: ["a.txt": "a"])
        async let first = TestSandboxes.sh("sleep 1; ln -s self/.. up; echo one", in: ws)
        async let second = TestSandboxes.sh("ln -s . self; sleep 2; echo two", in: ws)
        let (r1, r2) = try await (first, second)
        #expect(r1.stdout.text.contains("one"), r1.escapeLog())
        #expect(r2.stdout.text.contains("two"), r2.escapeLog())
        #expect(!(ws.exists("up") && ws.exists("self")), "both applied: up -> self/.. is the workspace's parent")
    }

    @Test("thousands of escaping links are all refused, and a chain through the user's link still is")
    func manyLinks() {
        let count = 3000
        var after: [String: FileTree.Entry] = [:]
        var changes: [FileChange] = []
        func link(_ target: String) -> FileTree.Entry { FileTree.Entry(kind: .symlink(target), size: 0, mode: 0o777, modified: timespec()) }
        for index in 0..<count {
            after["l\(index)"] = link(index.isMultiple(of: 2) ? "../x\(index)" : "/abs/\(index)")
            changes.append(FileChange(path: "l\(index)", kind: .added))
        }
        // Inside once l0 is refused (and gone): judged on the tree the refusals left.
        after["ok"] = link("l0/../sub")
        after["self"] = link(".")
        after["up"] = link("self/..")
        changes += [FileChange(path: "ok", kind: .added), FileChange(path: "self", kind: .added)]
        let before = ["up": link("self/..")]
        let review = ChangeReview(changes: changes, after: after, before: before)
        let refused = Set(review.refusals.map(\.path))
        #expect((0..<count).allSatisfy { refused.contains("l\($0)") }, "\(count - refused.count) escaping links got through")
        #expect(refused.contains("self"), "the user's up -> self/.. would lead out")
        #expect(review.applicable.map(\.path) == ["ok"], "\(review.applicable.map(\.path))")
    }
}

@Suite("what a person approves cannot be hidden or blurred")
struct ApprovalDiffHidingTests {
    private func copy(_ ws: ScratchWorkspace) throws -> WorkspaceCopy {
        try WorkspaceCopy(copying: ws.url, stagingRoot: TestSandboxes.configuration.stagingRoot)
    }

    private func put(_ copy: WorkspaceCopy, _ path: String, _ bytes: [UInt8]) throws {
        let url = copy.directory.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    /// What a terminal would act on rather than print.
    private func actionable(_ diff: String) -> [String] {
        var found: [String] = []
        for line in diff.split(separator: "\n", omittingEmptySubsequences: false) {
            let body = line.hasSuffix("\r") ? line.dropLast() : Substring(line)
            for scalar in body.unicodeScalars where ShownText.hidden(scalar, keepTabs: true) {
                found.append(String(format: "U+%04X in %@", scalar.value, String(line.prefix(60))))
            }
        }
        return found
    }

    @Test("escapes, carriage returns, newlines and bidi controls in names, targets and lines are shown, never acted on", arguments: [
        "\u{1B}[2K\u{1B}[1A", "\r", "\n+++ setup.py", "\u{1B}]0;title\u{07}", "\u{1B}]52;c;cm0gLXJmIH4=\u{07}", "\u{9B}2K",
        "\u{202E}", "\u{2066}", "\u{200B}", "\u{08}\u{08}\u{08}", "\u{7F}",
    ])
    func controlCharacters(_ trick: String) throws {
        let ws = try ScratchWorkspace(files: ["app.py": "print('ok')\n", "old.txt": "gone\n"])
        let copy = try copy(ws)
        defer { copy.discard() }
        try put(copy, "app.py", Array("print('ok')\nevil()  # \(trick)print('fine')\n".utf8))
        try put(copy, "n\(trick)ame.py", Array("x = 1\n".utf8))
        #expect(symlink("t\(trick)arget", copy.directory.appendingPathComponent("l\(trick)ink").path) == 0)
        #expect(rename(copy.directory.appendingPathComponent("old.txt").path,
                       copy.directory.appendingPathComponent("o\(trick)ld.txt").path) == 0)
        let diff = copy.diff(copy.changes())
        #expect(actionable(diff).isEmpty, "\(actionable(diff))")
        let shown = ShownText.escape(trick)
        if !trick.contains("\n") {
            #expect(diff.contains("+evil()  # \(ShownText.escape(trick, keepTabs: true))print('fine')"), "\(diff)")
        }
        #expect(diff.contains("added file n\(shown)ame.py"), "\(diff)")
        #expect(diff.contains("added link l\(shown)ink -> t\(shown)arget"), "\(diff)")
        #expect(diff.contains("deleted file old.txt"), "\(diff)")
        // Every change is on a line of its own that starts the way Doer starts it.
        let headers = diff.split(separator: "\n").filter { $0.hasPrefix("added ") || $0.hasPrefix("deleted ") }
        #expect(headers.count == 4, "\(headers)")
    }

    @Test("a CRLF file keeps its line ends; a carriage return inside a line is shown")
    func carriageReturns() throws {
        let ws = try ScratchWorkspace(files: ["win.txt": "one\r\ntwo\r\n"])
        let copy = try copy(ws)
        defer { copy.discard() }
        try put(copy, "win.txt", Array("one\r\nTWO\rtwo\r\n".utf8))
        let diff = copy.diff(copy.changes())
        #expect(diff.contains("+TWO\\x0dtwo\r\n"), "\(diff)")
        #expect(diff.contains(" one\r\n"), "\(diff)")
    }

    @Test("changes String equality misses are shown: canonically equivalent lines, a final newline")
    func lookAlikes() throws {
        let ws = try ScratchWorkspace(files: ["cafe.py": "name = 'caf\u{E9}'\nunit = '\u{3A9}'\n", "tail.txt": "end\n",
                                              "notail.txt": "end"])
        let copy = try copy(ws)
        defer { copy.discard() }
        try put(copy, "cafe.py", Array("name = 'cafe\u{301}'\nunit = '\u{2126}'\n".utf8))
        try put(copy, "tail.txt", Array("end".utf8))
        try put(copy, "notail.txt", Array("end\n".utf8))
        let diff = copy.diff(copy.changes())
        #expect(diff.contains("-name = 'caf\u{E9}'") && diff.contains("+name = 'cafe\u{301}'"), "\(diff)")
        #expect(diff.contains("-unit = '\u{3A9}'") && diff.contains("+unit = '\u{2126}'"), "\(diff)")
        #expect(diff.contains("-end\n+end\n\\ No newline at end of file"), "\(diff)")
        #expect(diff.contains("-end\n\\ No newline at end of file\n+end\n"), "\(diff)")
    }

    @Test("mode-only changes, kind swaps and thousands of files are each shown, nothing cut")
    func everythingListed() throws {
        let ws = try ScratchWorkspace(files: ["run.sh": "echo\n", "f": "file\n", "d/inner.txt": "in\n", "keep.txt": "k\n"])
        let copy = try copy(ws)
        defer { copy.discard() }
        let root = copy.directory
        #expect(chmod(root.appendingPathComponent("run.sh").path, 0o755) == 0)
        try FileManager.default.removeItem(at: root.appendingPathComponent("f"))
        try put(copy, "f/now-a-folder.txt", Array("x\n".utf8))
        try FileManager.default.removeItem(at: root.appendingPathComponent("d"))
        #expect(symlink("keep.txt", root.appendingPathComponent("d").path) == 0)
        let many = 3000
        for index in 0..<many { try put(copy, "many/\(index).txt", []) }
        let diff = copy.diff(copy.changes())
        #expect(diff.contains("mode of run.sh: 0644 -> 0755"), "\(diff.prefix(2000))")
        #expect(diff.contains("deleted file f") && diff.contains("added folder f/") && diff.contains("added file f/now-a-folder.txt"))
        #expect(diff.contains("deleted folder d/ and everything in it") && diff.contains("added link d -> keep.txt"))
        let empties = diff.split(separator: "\n").filter { $0.hasPrefix("added empty file many/") }
        #expect(empties.count == many, "\(empties.count) of \(many) empty files shown")
    }
}

@Suite("escape suite 9: modes a run sets are not taken over by the host")
struct AppliedModeTests {
    @Test("setuid, setgid, sticky and world-writable bits never reach the workspace, nor wider read or write for others")
    func modes() async throws {
        let ws = try ScratchWorkspace(files: ["shared.txt": "s", "own.txt": "o", "secret.env": "TOKEN=1\n", "team": "t"])
        #expect(chmod(ws.url.appendingPathComponent("shared.txt").path, 0o666) == 0)
        #expect(chmod(ws.url.appendingPathComponent("secret.env").path, 0o600) == 0)
        #expect(chmod(ws.url.appendingPathComponent("team").path, 0o640) == 0)
        #expect(chmod(ws.url.appendingPathComponent("own.txt").path, 0o644) == 0)
        let r = try await TestSandboxes.sh("""
            echo x > suid; chmod 4755 suid; echo x > sgid; chmod 2775 sgid; echo x > ww; chmod 0666 ww
            echo x > all; chmod 7777 all; mkdir tmp; chmod 1777 tmp; mkdir gdir; chmod 2777 gdir
            echo more >> shared.txt; chmod 0777 own.txt; chmod 0644 secret.env; chmod 0775 team; echo done
            """, in: ws)
        #expect(r.stdout.text.contains("done"), r.escapeLog())
        // New entries get what the user's umask gives a new file; old ones keep their reach.
        // The sandbox refuses a chmod with a setuid or setgid bit outright (the file stays as
        // created); the apply's own stripping is seen in `diffShowsAppliedMode`.
        let fresh = { (bits: mode_t) in bits & ~(ChangeApplier.processUmask & 0o066) & ~0o002 }
        let expected: [String: mode_t] = ["suid": fresh(0o644), "sgid": fresh(0o644), "ww": fresh(0o664), "all": fresh(0o644),
                                          "tmp": fresh(0o775), "gdir": fresh(0o775), "own.txt": 0o755, "shared.txt": 0o666,
                                          "secret.env": 0o600, "team": 0o751]
        for (path, want) in expected {
            #expect(mode(ws, path) == want, "\(path): \(String(mode(ws, path) ?? 0, radix: 8)), expected \(String(want, radix: 8))")
        }
        #expect(ws.read("shared.txt") == "smore\n", "control: the change itself is applied")
    }

    @Test("a hard-linked pair is applied as two files; a hard link to a read-only or outside file cannot be made")
    func hardLinks() async throws {
        let ws = try ScratchWorkspace(files: ["a.txt": "a\n", ".git/config": "[core]\n"])
        let r = try await TestSandboxes.sh("""
            ln a.txt b.txt; echo X >> b.txt
            for target in .git/config /etc/passwd /usr/bin/env; do ln $target "hl-$(basename $target)" 2>/dev/null || echo refused; done
            echo done
            """, in: ws)
        #expect(r.stdout.text.components(separatedBy: "refused").count == 4, r.escapeLog())
        #expect(r.stdout.text.contains("done"), r.escapeLog())
        var a = stat(), b = stat()
        #expect(lstat(ws.url.appendingPathComponent("a.txt").path, &a) == 0 && lstat(ws.url.appendingPathComponent("b.txt").path, &b) == 0)
        #expect(a.st_ino != b.st_ino && a.st_nlink == 1 && b.st_nlink == 1, "the pair is still one file on the host")
        #expect(ws.read("a.txt") == "a\nX\n" && ws.read("b.txt") == "a\nX\n")
        #expect(!ws.exists("hl-config") && !ws.exists("hl-passwd") && !ws.exists("hl-env"))
        #expect(ws.read(".git/config") == "[core]\n")
    }

    @Test("the approval shows the mode the apply will set")
    func diffShowsAppliedMode() throws {
        let ws = try ScratchWorkspace(files: ["run.sh": "echo\n"])
        #expect(chmod(ws.url.appendingPathComponent("run.sh").path, 0o644) == 0)
        let copy = try WorkspaceCopy(copying: ws.url, stagingRoot: TestSandboxes.configuration.stagingRoot)
        defer { copy.discard() }
        #expect(chmod(copy.directory.appendingPathComponent("run.sh").path, 0o4777) == 0)
        #expect(mkdir(copy.directory.appendingPathComponent("pub").path, 0o755) == 0)
        #expect(chmod(copy.directory.appendingPathComponent("pub").path, 0o1777) == 0)
        let diff = copy.diff(copy.changes())
        let pub = 0o775 & ~(ChangeApplier.processUmask & 0o066) & ~0o002
        #expect(diff.contains("mode of run.sh: 0644 -> 0755"), "\(diff)")
        #expect(diff.contains("added folder pub/ (mode 0\(String(pub, radix: 8)))"), "\(diff)")
        _ = try copy.apply(copy.changes())
        #expect(mode(ws, "run.sh") == 0o755 && mode(ws, "pub") == pub)
    }
}

@Suite("applying is all or nothing: variants")
struct AtomicApplyVariantTests {
    @Test("a disk that fills half-way puts everything back and says which path and why")
    func diskFull() async throws {
        guard geteuid() == 0 else { return }
        let ws = try ScratchWorkspace()
        guard shell("mount -t tmpfs -o size=2m doer-test-full '\(ws.url.path)'") == 0 else { return }
        defer { _ = shell("umount -l '\(ws.url.path)'") }
        try ws.write("a.txt", "a")
        try ws.write("old.txt", "old")
        try ws.write("m/keep.txt", "keep")
        let before = entries(ws.url)
        let r = try await TestSandboxes.sh("""
            echo A > a.txt; rm old.txt; rm -r m; ln -s a.txt link; chmod 755 a.txt
            for n in 1 2 3; do head -c 900000 /dev/zero | tr '\\0' x > big$n.bin; done; echo done
            """, in: ws)
        #expect(r.stdout.text.contains("done"), r.escapeLog())
        #expect(!r.changesApplied)
        let failure = r.applyFailure ?? ""
        #expect(failure.contains("big") && failure.contains("No space left on device") && failure.contains("as it was"), "\(failure)")
        #expect(!failure.contains("workspace: workspace:"), "\(failure)")
        #expect(entries(ws.url) == before, "the workspace was left half-applied")
    }

    @Test("a folder that became read-only on the host stops the apply before anything stays changed")
    func readOnlyFolder() async throws {
        guard geteuid() == 0 else { return }
        let ws = try ScratchWorkspace(files: ["a.txt": "a", "z/locked/keep.txt": "k"])
        let locked = ws.url.appendingPathComponent("z/locked").path
        guard shell("mount --bind '\(locked)' '\(locked)' && mount -o remount,bind,ro '\(locked)'") == 0 else { return }
        defer { _ = shell("umount -l '\(locked)'") }
        let before = entries(ws.url)
        let r = try await TestSandboxes.sh("echo A > a.txt; mkdir b; echo new > b/new.txt; echo x > z/locked/new.txt; echo done", in: ws)
        #expect(r.stdout.text.contains("done"), r.escapeLog())
        let failure = r.applyFailure ?? ""
        #expect(failure.contains("z/locked/new.txt") && failure.contains("Read-only file system"), "\(failure)")
        #expect(entries(ws.url) == before, "the workspace was left half-applied")
    }

    @Test("a path longer than PATH_MAX of 255-byte names is applied whole")
    func longPath() async throws {
        let ws = try ScratchWorkspace(files: ["a.txt": "a"])
        let name = String(repeating: "d", count: 255)
        defer {
            // Deeper than PATH_MAX: removed one folder at a time.
            let rootFD = open(ws.url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if rootFD >= 0 { FileTree.remove(rootFD: rootFD, path: name); close(rootFD) }
        }
        // Python, since a shell's cd keeps the whole path and stops at PATH_MAX.
        let r = try await TestSandboxes.sh("""
            python3 -c '
            import os
            for _ in range(20):
                os.mkdir("\(name)"); os.chdir("\(name)")
            open("f" * 255, "w").write("deep\\n")
            os.chdir("/workspace"); open("a.txt", "w").write("b\\n"); print("done")'
            """, in: ws)
        #expect(r.stdout.text.contains("done"), r.escapeLog())
        #expect(r.changesApplied, r.escapeLog())
        let deep = Array(repeating: name, count: 20).joined(separator: "/") + "/" + String(repeating: "f", count: 255)
        #expect(deep.utf8.count > Int(PATH_MAX))
        #expect(FileTree.scan(ws.url.path)[deep]?.size == 5, "the deep file was not applied")
        #expect(ws.read("a.txt") == "b\n")
    }

    @Test("a file where the workspace now has a folder, and a folder where it has a file, stop the apply")
    func kindConflicts() throws {
        let ws = try ScratchWorkspace(files: ["a.txt": "a"])
        let copy = try WorkspaceCopy(copying: ws.url, stagingRoot: TestSandboxes.configuration.stagingRoot)
        defer { copy.discard() }
        try copy.write("a.txt", "changed")
        try copy.write("x", "a file")
        try copy.write("y/inner.txt", "in a folder")
        try ws.write("x/user.txt", "the user's folder, made meanwhile")
        try ws.write("y", "the user's file, made meanwhile")
        let before = entries(ws.url)
        do {
            _ = try copy.apply(copy.changes())
            Issue.record("applied over the user's new entries")
        } catch {
            #expect(error.description.contains("x") || error.description.contains("y"), "\(error.description)")
            #expect(error.description.contains("changed in the workspace") || error.description.contains("not a folder"), "\(error.description)")
        }
        #expect(entries(ws.url) == before)
    }
}
