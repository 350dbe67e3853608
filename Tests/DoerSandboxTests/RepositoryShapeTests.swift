// A folder git opens as a repository works like a `.git` whatever it is called: a bare
// repository a run plants in `sub/` (HEAD, refs, objects, a config naming a program), the
// folder a workspace's `.git` link or `gitdir:` file leads to. Each probe runs in a real
// bubblewrap sandbox; the host's own git is then run where the user would run it, and a
// planted program leaves a marker if it ran.

import DoerCore
@testable import DoerSandbox
import Foundation
import Testing

/// Programs on the host that leave a marker when git runs them, and the configuration
/// lines that name them.
private final class Markers: @unchecked Sendable {
    let folder: URL

    init() throws {
        folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-marks-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("fired"), withIntermediateDirectories: true)
        for name in ["fsmonitor", "pager", "hooks"] {
            let url = folder.appendingPathComponent(name)
            try Data("#!/bin/sh\ntouch '\(folder.path)/fired/\(name)'\nexit 0\n".utf8).write(to: url)
            chmod(url.path, 0o755)
        }
    }

    /// A configuration that makes git run the markers: the fsmonitor on `git status` in
    /// a work tree (`core.worktree` gives a bare repository one), the pager for `git log`.
    var config: String {
        "[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tworktree = ..\n"
            + "\tfsmonitor = \(folder.path)/fsmonitor\n\tpager = \(folder.path)/pager\n"
    }

    var fired: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("fired").path)) ?? []).sorted() }

    deinit { try? FileManager.default.removeItem(at: folder) }
}

/// The host's git in `folder`, as a user would run it; its result does not matter.
private func hostGit(_ arguments: [String], in folder: URL) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    process.arguments = arguments
    process.currentDirectoryURL = folder
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
}

/// A bare repository written file by file, as a run could write it without git.
private func bareRepository(_ folder: String, config: String) -> String {
    """
    os.makedirs("\(folder)/refs/heads", exist_ok=True)
    os.makedirs("\(folder)/objects/info", exist_ok=True)
    open("\(folder)/HEAD", "w").write("ref: refs/heads/main\\n")
    open("\(folder)/config", "w").write(\(pythonString(config)))
    """
}

private func pythonString(_ text: String) -> String {
    "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: "\\t") + "\""
}

@Suite("escape suite 9: a folder git would open as a repository is protected whatever its name")
struct RepositoryShapeTests {
    @Test("the trap is armed: the same bare repository planted by hand makes the host's git run its programs")
    func trapIsArmed() throws {
        let markers = try Markers()
        let ws = try ScratchWorkspace(files: ["sub/HEAD": "ref: refs/heads/main\n", "sub/config": markers.config,
                                              "sub/refs/heads/.keep": "", "sub/objects/info/.keep": ""])
        try hostGit(["status"], in: ws.url.appendingPathComponent("sub"))
        #expect(markers.fired == ["fsmonitor"])
    }

    @Test("a bare repository a run plants in a subfolder is not applied, and git there runs nothing", arguments: [
        "git", "by-hand", "deep", "uppercase-sub",
    ])
    func plantedBareRepository(_ variant: String) async throws {
        let markers = try Markers()
        let ws = try ScratchWorkspace(files: ["app.py": "x = 1\n"])
        let folder = ["git": "sub", "by-hand": "sub", "deep": "src/vendor/thing", "uppercase-sub": "Sub"][variant]!
        let plant = variant == "git" ? """
            import subprocess
            subprocess.run(["git", "init", "-q", "--bare", "\(folder)"], check=True)
            open("\(folder)/config", "w").write(\(pythonString(markers.config)))
            open("\(folder)/hooks/post-checkout", "w").write("#!/bin/sh\\ntouch /tmp/x\\n")
            os.chmod("\(folder)/hooks/post-checkout", 0o755)
            """ : bareRepository(folder, config: markers.config)
        let r = try await EscapeProbe.python(plant + "\nopen(\"app.py\", \"w\").write(\"x = 2\\n\")\nsay(\"planted\", \"yes\")\n", in: ws)
        #expect(r.escapeVerdicts["planted"] == "yes", r.escapeLog())
        for path in ["HEAD", "config", "refs", "objects", "hooks"] {
            #expect(!ws.exists("\(folder)/\(path)"), "\(folder)/\(path) was applied")
        }
        #expect(r.warnings.contains { $0.contains("git would open \(folder) as a repository") }, r.escapeLog())
        #expect(ws.read("app.py") == "x = 2\n", "control: ordinary changes are applied")
        if ws.exists(folder) { try hostGit(["status"], in: ws.url.appendingPathComponent(folder)) }
        try hostGit(["status"], in: ws.url)
        #expect(markers.fired.isEmpty)
    }

    @Test("the missing piece of a repository is not applied either: HEAD beside a project's own refs and objects")
    func lastPiece() async throws {
        let markers = try Markers()
        let ws = try ScratchWorkspace(files: ["data/refs/heads/main": "0000\n", "data/objects/readme": "objects\n"])
        let r = try await EscapeProbe.python("""
            open("data/HEAD", "w").write("ref: refs/heads/main\\n")
            open("data/config", "w").write(\(pythonString(markers.config)))
            open("data/refs/heads/main", "w").write("1111\\n")
            """, in: ws)
        #expect(!ws.exists("data/HEAD") && !ws.exists("data/config"), r.escapeLog())
        #expect(ws.read("data/refs/heads/main") == "0000\n", "a change inside the folder it completed is refused with it")
        try hostGit(["status"], in: ws.url.appendingPathComponent("data"))
        #expect(markers.fired.isEmpty)
    }

    @Test("a worktree-style git folder (HEAD and commondir) and the common folder it names are not applied")
    func commonDirectory() async throws {
        let markers = try Markers()
        let ws = try ScratchWorkspace(files: ["app.py": "x = 1\n"])
        let r = try await EscapeProbe.python("""
            os.makedirs("common/refs/heads"); os.makedirs("common/objects")
            open("common/config", "w").write(\(pythonString(markers.config)))
            os.makedirs("wt")
            open("wt/HEAD", "w").write("ref: refs/heads/main\\n")
            open("wt/commondir", "w").write("../common\\n")
            """, in: ws)
        for path in ["common/config", "common/refs", "wt/HEAD", "wt/commondir"] {
            #expect(!ws.exists(path), "\(path) was applied \(r.escapeLog())")
        }
    }

    @Test("a workspace turned into a bare repository at its top is not applied")
    func topLevel() async throws {
        let markers = try Markers()
        let ws = try ScratchWorkspace(files: ["app.py": "x = 1\n"])
        let r = try await EscapeProbe.python(bareRepository(".", config: markers.config), in: ws)
        for path in ["HEAD", "config", "refs", "objects"] {
            #expect(!ws.exists(path), "\(path) was applied \(r.escapeLog())")
        }
        #expect(r.warnings.contains { $0.contains("the workspace itself") }, r.escapeLog())
        try hostGit(["status"], in: ws.url)
        #expect(markers.fired.isEmpty)
    }

    @Test("where the workspace's .git leads — a link or a gitdir: file, relative or absolute — is never changed", arguments: [
        "link", "gitfile", "gitfile-absolute",
    ])
    func dotGitElsewhereInside(_ variant: String) async throws {
        let markers = try Markers()
        let ws = try ScratchWorkspace(files: ["app.py": "x = 1\n"])
        try hostGit(["init", "-q", "--separate-git-dir=\(ws.url.path)/gitdata", "."], in: ws.url)
        let original = try #require(ws.read("gitdata/config"))
        try FileManager.default.removeItem(at: ws.url.appendingPathComponent(".git"))
        switch variant {
        case "link": try FileManager.default.createSymbolicLink(atPath: ws.url.appendingPathComponent(".git").path,
                                                                withDestinationPath: "gitdata")
        case "gitfile": try ws.write(".git", "gitdir: gitdata\n")
        default: try ws.write(".git", "gitdir: \(ws.url.path)/gitdata\n")
        }
        let r = try await EscapeProbe.python("""
            attempt("through_dot_git", lambda: open(".git/hooks/post-checkout", "w").write("#!/bin/sh\\ntouch /tmp/x\\n"))
            open("gitdata/config", "a").write("[core]\\n\\tfsmonitor = \(markers.folder.path)/fsmonitor\\n")
            open("gitdata/hooks/pre-commit", "w").write("#!/bin/sh\\ntouch /tmp/x\\n")
            open("app.py", "w").write("x = 2\\n")
            """, in: ws)
        #expect(ws.read("gitdata/config") == original, r.escapeLog())
        #expect(!ws.exists("gitdata/hooks/pre-commit") && !ws.exists("gitdata/hooks/post-checkout"), r.escapeLog())
        #expect(ws.read("app.py") == "x = 2\n", "control: ordinary changes are applied")
        try hostGit(["status"], in: ws.url)
        #expect(markers.fired.isEmpty)
    }

    @Test("ordinary names are not mistaken for a repository: HEAD.md, a refs folder alone, objects alone")
    func ordinaryNames() async throws {
        let ws = try ScratchWorkspace(files: ["app.py": "x = 1\n"])
        _ = try await EscapeProbe.python("""
            open("HEAD.md", "w").write("head")
            os.makedirs("docs/refs"); open("docs/refs/a.md", "w").write("a")
            os.makedirs("model/objects"); open("model/objects/a.txt", "w").write("a")
            open("model/HEAD.txt", "w").write("a")
            """, in: ws)
        for path in ["HEAD.md", "docs/refs/a.md", "model/objects/a.txt", "model/HEAD.txt"] {
            #expect(ws.exists(path), "\(path) was not applied")
        }
    }

    @Test("the agent's own writes that would make or fill a repository are refused with the reason")
    func agentWrites() throws {
        let ws = try ScratchWorkspace(files: ["app.py": "x = 1\n", "fixture/refs/heads/main": "0\n", "repo.git/HEAD": "ref: refs/heads/main\n",
                                              "repo.git/refs/heads/main": "0\n", "repo.git/objects/x": "x"])
        let copy = try WorkspaceCopy(copying: ws.url, stagingRoot: TestSandboxes.configuration.stagingRoot)
        defer { copy.discard() }
        for path in ["fixture/HEAD", "repo.git/config", "repo.git/hooks/post-checkout", "fixture/objects/x"] {
            do {
                try copy.write(path, "x")
                Issue.record("\(path) was written")
            } catch {
                #expect(error.description.contains("as a repository"), "\(error.description)")
            }
        }
        try copy.write("src/HEAD.md", "fine\n")
        try copy.write("fixture/readme.txt", "fine\n")
        #expect(Set(copy.changes().map(\.path)).isSuperset(of: ["src/HEAD.md", "fixture/readme.txt"]))
    }

    @Test("which folders git would open as a repository, from a tree's paths")
    func shapes() {
        #expect(ProtectedPaths.repositoryFolders(in: ["a/HEAD", "a/refs/heads/main"]) == ["a"])
        #expect(ProtectedPaths.repositoryFolders(in: ["HEAD", "refs"]) == [""])
        #expect(ProtectedPaths.repositoryFolders(in: ["w/HEAD", "w/commondir", "c/objects/x", "c/refs"]) == ["w", "c"])
        #expect(ProtectedPaths.repositoryFolders(in: ["x/Head", "x/REFS"]) == ["x"], "any letter case")
        #expect(ProtectedPaths.repositoryFolders(in: [".git/HEAD", ".git/refs", "v/.git/HEAD", "v/.git/refs"]).isEmpty,
                "protected folders are refused already")
        #expect(ProtectedPaths.repositoryFolders(in: ["HEAD.md", "docs/refs/a", "m/objects/a", "m/HEAD.txt", "n/commondir"]).isEmpty)
    }
}
