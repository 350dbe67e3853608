import DoerCore
import DoerDeploy
import DoerStore
import DoerTestSupport
import Foundation
import NIOHTTP1
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A working tree whose `.git` was made hostile by hand, with changes waiting to be
/// deployed: a new file, a modified one (same size, old time stamp, so git must read it
/// through the clean filter), and files for the odd-named and included filters.
func hostileFixture() throws -> (GitFixture, GitTrap) {
    let fixture = try GitFixture()
    try sh("echo same-size > kept.txt && git add kept.txt && git commit -q -m kept && git push -q origin main", in: fixture.work)
    let trap = try GitTrap(in: fixture.scratch.url)
    try trap.plant(workTree: fixture.work)
    try fixture.write("app.py", "print('hi')\n")
    try fixture.write("kept.txt", "SAME-SIZE\n")
    try sh("touch -d '2001-01-01' kept.txt", in: fixture.work)
    try fixture.write("data.odd", "odd\n")
    try fixture.write("more.inc", "included\n")
    return (fixture, trap)
}

@Suite("git on a hostile repository runs none of its hooks or configured programs", .serialized)
struct HostileGitTests {
    func deployer(_ log: AuditLog, approved: Bool = true) -> Deployer {
        Deployer(settings: DeploySettings(), audit: log, actor: "tester", approver: ScriptedApprover(approved: approved), environment: [:])
    }

    @Test("the traps are armed: plain git on the same repository springs them")
    func trapsAreArmed() throws {
        let (fixture, trap) = try hostileFixture()
        try Data("* filter=trap\n".utf8).write(to: trap.elsewhere.appendingPathComponent(".gitattributes"))
        try sh("git status >/dev/null 2>&1; git add -A >/dev/null 2>&1; git commit -q -m c >/dev/null 2>&1; true", in: fixture.work)
        let fired = trap.fired
        for marker in ["fsmonitor", "clean", "hooks-path-pre-commit", "gpg"] {
            #expect(fired.contains(marker), "\(marker) did not fire under plain git: \(fired)")
        }
    }

    @Test("every GitRepository command — open, status, switch, add, commit, show, push, ls-remote — runs nothing")
    func repositoryCommands() async throws {
        let (fixture, trap) = try hostileFixture()
        let repository = try await GitRepository(directory: fixture.work)
        #expect(repository.root.path == fixture.work.path, "core.worktree is not followed")
        #expect(try await repository.currentBranch() == "main")
        let pending = try await repository.pendingChanges()
        #expect(pending.contains("?? app.py") && pending.contains(" M kept.txt"), "\(pending)")
        try await repository.validateBranchName("doer/hostile")
        // The onbranch include switches on here: its programs must not run either.
        try await repository.switchToBranch("doer/hostile")
        let commit = try #require(try await repository.commitAll(message: "hostile", identity: (name: "doer", email: "doer@localhost")))
        #expect(Set(commit.files.map(\.path)) == [".gitattributes", "app.py", "kept.txt", "data.odd", "more.inc"])
        _ = try await repository.headCommit()
        _ = try await repository.push(remote: "origin", branch: "doer/hostile")
        #expect(try await repository.remoteHead(remote: "origin", branch: "doer/hostile") == commit.sha)
        #expect(await repository.remoteURL("origin") == "file://\(fixture.bare.path)")
        // Switching back and forth checks files out: smudge filters, post-checkout.
        try await repository.switchToBranch("main")
        try await repository.switchToBranch("doer/hostile")
        #expect(trap.fired.isEmpty, "ran: \(trap.fired)")
        #expect(try fixture.remoteBranch("doer/hostile") == commit.sha)
        // What was committed is the work tree's content as it is, not a filter's output.
        #expect(try sh("git --git-dir='\(fixture.bare.path)' show doer/hostile:kept.txt") == "SAME-SIZE\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: trap.elsewhere.path) == ["elsewhere.txt"])
    }

    @Test("a deploy refused at the approval and an approved one both run nothing")
    func deployRefusedAndApproved() async throws {
        let (fixture, trap) = try hostileFixture()
        let log = try auditLog(in: fixture.scratch)
        await #expect(throws: DeployError.approvalDenied("said no")) {
            try await deployer(log, approved: false).deploy(DeployRequest(workspace: fixture.work, branch: "doer/no"))
        }
        #expect(trap.fired.isEmpty, "ran before the approval: \(trap.fired)")
        let report = try await deployer(log).deploy(DeployRequest(workspace: fixture.work, branch: "doer/yes", message: "ship"))
        #expect(report.committed)
        #expect(try fixture.remoteBranch("doer/yes") == report.commit)
        #expect(trap.fired.isEmpty, "ran after the approval: \(trap.fired)")
        let files = try log.records().first { $0.kind == "git.commit" }?.details["files"]
        guard case .array(let list)? = files else { Issue.record("no files recorded"); return }
        #expect(list.contains { $0["path"] == "app.py" && $0["sha256"]?.stringValue?.count == 64 })
    }

    @Test("settings git lets win over any override are refused, wherever they are written, before anything runs")
    func unoverridableSettingsRefused() async throws {
        let variants: [(name: String, plant: (GitFixture, GitTrap) throws -> Void)] = [
            ("uploadpack in .git/config", { fixture, trap in
                try trap.append("[remote \"origin\"]\n\tuploadpack = \(try trap.program("uploadpack"))",
                                to: fixture.work.appendingPathComponent(".git/config"))
            }),
            ("receivepack in a relative include", { fixture, trap in
                try Data("[remote \"origin\"]\n\treceivepack = \(try trap.program("receivepack")); git-receive-pack\n".utf8)
                    .write(to: fixture.work.appendingPathComponent(".git/extra.config"))
                try trap.append("[include]\n\tpath = extra.config", to: fixture.work.appendingPathComponent(".git/config"))
            }),
            ("receivepack in an include not active on this branch", { fixture, trap in
                let file = trap.folder.appendingPathComponent("later.config")
                try Data("[remote \"origin\"]\n\treceivepack = \(try trap.program("receivepack-later"))\n".utf8).write(to: file)
                try trap.append("[includeIf \"onbranch:somewhere-else\"]\n\tpath = \(file.path)",
                                to: fixture.work.appendingPathComponent(".git/config"))
            }),
            ("a remote helper named by a path", { fixture, trap in
                try trap.append("[remote \"origin\"]\n\tvcs = ../../x", to: fixture.work.appendingPathComponent(".git/config"))
            }),
            ("uploadpack in config.worktree", { fixture, trap in
                try trap.append("[extensions]\n\tworktreeConfig = true\n[core]\n\trepositoryformatversion = 1",
                                to: fixture.work.appendingPathComponent(".git/config"))
                try trap.append("[remote \"origin\"]\n\tuploadpack = \(try trap.program("uploadpack-worktree"))",
                                to: fixture.work.appendingPathComponent(".git/config.worktree"))
            }),
        ]
        for variant in variants {
            let fixture = try GitFixture()
            let trap = try GitTrap(in: fixture.scratch.url)
            try variant.plant(fixture, trap)
            try fixture.write("x.txt", "x")
            let log = try auditLog(in: fixture.scratch)
            let error = await #expect(throws: DeployError.self, "\(variant.name)") {
                try await deployer(log).deploy(DeployRequest(workspace: fixture.work, branch: "doer/refused"))
            }
            guard case .unsafeRepository(_, let setting, _, _)? = error else {
                Issue.record("\(variant.name): expected unsafeRepository, got \(String(describing: error))")
                continue
            }
            #expect(setting.hasPrefix("remote.origin."), "\(variant.name): \(setting)")
            #expect(error?.description.contains("--unset-all") == true)
            #expect(trap.fired.isEmpty, "\(variant.name): ran \(trap.fired)")
            #expect(try log.records().isEmpty, "\(variant.name): nobody was asked")
            #expect(try fixture.remoteBranch("doer/refused") == nil)
        }
    }

    @Test("an include that is a pipe, active or not, is refused instead of leaving the deploy waiting for ever")
    func includedPipe() async throws {
        for header in ["[include]", "[includeIf \"onbranch:elsewhere\"]"] {
            let fixture = try GitFixture()
            let pipe = fixture.scratch.path("pipe.config")
            #expect(mkfifo(pipe.path, 0o644) == 0)
            try GitTrap(in: fixture.scratch.url).append("\(header)\n\tpath = \(pipe.path)", to: fixture.work.appendingPathComponent(".git/config"))
            try fixture.write("x.txt", "x")
            let error = await #expect(throws: DeployError.self, "\(header)") {
                try await deployer(try auditLog(in: fixture.scratch)).deploy(DeployRequest(workspace: fixture.work, branch: "doer/pipe"))
            }
            #expect(error?.description.contains("pipe.config") == true, "\(String(describing: error))")
        }
    }

    @Test("a partial clone whose promisor remote names an upload-pack program is refused before it can fetch")
    func partialCloneRefused() async throws {
        let fixture = try GitFixture()
        try sh("git --git-dir='\(fixture.bare.path)' config uploadpack.allowFilter true")
        let clone = fixture.scratch.path("partial")
        try sh("git clone -q --no-local --filter=blob:none 'file://\(fixture.bare.path)' '\(clone.path)'")
        let trap = try GitTrap(in: fixture.scratch.url)
        try trap.append("[remote \"origin\"]\n\tuploadpack = \(try trap.program("lazy-fetch")); git-upload-pack",
                        to: clone.appendingPathComponent(".git/config"))
        try sh("rm -f .git/objects/pack/*.pack .git/objects/pack/*.idx .git/objects/pack/*.rev || true", in: clone)
        await #expect(throws: DeployError.self) {
            let repository = try await GitRepository(directory: clone)
            _ = try await repository.pendingChanges()
        }
        #expect(trap.fired.isEmpty, "ran: \(trap.fired)")
        // Plain git fetches the missing objects through the planted program: the trap is real.
        try sh("git status >/dev/null 2>&1; true", in: clone)
        #expect(trap.fired.contains("lazy-fetch"), "\(trap.fired)")
    }

    @Test("a remote on this machine keeps its hooks and programs to itself: push to it, clone from it")
    func hostileLocalRemote() async throws {
        let fixture = try GitFixture()
        let trap = try GitTrap(in: fixture.scratch.url)
        let alternate = fixture.scratch.path("alternate.git")
        try sh("git init -q --bare '\(alternate.path)' && git push -q '\(alternate.path)' main:refs/heads/other", in: fixture.work)
        try trap.plantRemote(gitDirectory: fixture.bare, alternate: alternate)
        let log = try auditLog(in: fixture.scratch)
        try fixture.write("pushed.txt", "to a hostile remote\n")
        let report = try await deployer(log).deploy(DeployRequest(workspace: fixture.work, branch: "doer/remote"))
        #expect(try fixture.remoteBranch("doer/remote") == report.commit)
        // An explicit URL, and a path, are the same repository on this machine.
        try fixture.write("again.txt", "again\n")
        _ = try await deployer(log).deploy(DeployRequest(workspace: fixture.work, remote: fixture.bare.path, branch: "doer/path"))
        #expect(try fixture.remoteBranch("doer/path") != nil)
        #expect(trap.fired.isEmpty, "the remote ran: \(trap.fired)")

        let workspace = fixture.scratch.path("workspace")
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        try Data("new\n".utf8).write(to: workspace.appendingPathComponent("new.txt"))
        let checkout = try await ChangeCheckout.prepare(remote: "file://\(fixture.bare.path)", baseBranch: "main", workspace: workspace,
                                                        changes: [FileChange(path: "new.txt", kind: .added)],
                                                        into: fixture.scratch.path("clone"))
        #expect(try await checkout.pendingChanges() == ["?? new.txt"])
        #expect(trap.fired.isEmpty, "cloning ran: \(trap.fired)")
    }

    @Test("a remote that the workspace's configuration points at a planted repository runs nothing of it")
    func remotePointedAtPlantedRepository() async throws {
        let fixture = try GitFixture()
        let trap = try GitTrap(in: fixture.scratch.url)
        let planted = fixture.scratch.path("planted.git")
        try sh("git init -q --bare '\(planted.path)'")
        try trap.plantRemote(gitDirectory: planted, alternate: fixture.bare)
        // Relative to the work tree, as git reads it.
        try trap.append("[remote \"origin\"]\n\turl = ../planted.git", to: fixture.work.appendingPathComponent(".git/config"))
        try sh("git config --file .git/config --unset-all remote.origin.url 'file://.*'", in: fixture.work)
        // A rewrite of a URL the user typed, to the planted repository.
        try trap.append("[url \"\(planted.path)/\"]\n\tpushInsteadOf = git://127.0.0.1:9/", to: fixture.work.appendingPathComponent(".git/config"))
        try fixture.write("x.txt", "x\n")
        let log = try auditLog(in: fixture.scratch)
        _ = try await deployer(log).deploy(DeployRequest(workspace: fixture.work, branch: "doer/planted"))
        try fixture.write("y.txt", "y\n")
        _ = try await deployer(log).deploy(DeployRequest(workspace: fixture.work, remote: "git://127.0.0.1:9/", branch: "doer/rewritten"))
        #expect(trap.fired.isEmpty, "the planted repository ran: \(trap.fired)")
    }

    @Test("a checked-out remote that updates its work tree on push (updateInstead) runs no filter or hook of its own")
    func updateInsteadRemote() async throws {
        let fixture = try GitFixture()
        let trap = try GitTrap(in: fixture.scratch.url)
        let live = fixture.scratch.path("live")
        try sh("""
            git clone -q 'file://\(fixture.bare.path)' '\(live.path)' && cd '\(live.path)' && git switch -q -c doer/live \
            && echo '* filter=trap' > .gitattributes && git add .gitattributes \
            && git -c user.name=l -c user.email=l@x commit -q -m attrs && git config receive.denyCurrentBranch updateInstead
            """)
        try trap.plantRemote(gitDirectory: live.appendingPathComponent(".git"), alternate: fixture.bare)
        try sh("git fetch -q '\(live.path)' doer/live && git switch -q -c doer/live FETCH_HEAD", in: fixture.work)
        try fixture.write("arrives.txt", "in the live tree\n")
        let repository = try await GitRepository(directory: fixture.work)
        _ = try await repository.commitAll(message: "live", identity: (name: "d", email: "d@x"))
        _ = try await repository.push(remote: live.path, branch: "doer/live")
        #expect(try String(contentsOf: live.appendingPathComponent("arrives.txt"), encoding: .utf8) == "in the live tree\n")
        #expect(trap.fired.isEmpty, "the live remote ran: \(trap.fired)")
    }

    @Test("remotes over ssh, git://, ext:: and rewrites to ext:: reach none of the repository's programs")
    func transports() async throws {
        let (fixture, trap) = try hostileFixture()
        let config = fixture.work.appendingPathComponent(".git/config")
        let marker = trap.markers.appendingPathComponent("ext-url").path
        try trap.append("""
            [remote "ext"]
            \turl = ext::sh -c touch% \(marker)
            [remote "ssh"]
            \turl = ssh://127.0.0.1:1/x.git
            [remote "daemon"]
            \turl = git://127.0.0.1:1/x.git
            [url "ext::sh -c touch% \(marker)-rewritten "]
            \tinsteadOf = rewrite://
            """, to: config)
        let repository = try await GitRepository(directory: fixture.work)
        for remote in ["ext", "ssh", "daemon", "rewrite://x", "ext::sh -c touch% \(marker)-direct"] {
            await #expect(throws: DeployError.self, "\(remote)") {
                _ = try await repository.push(remote: remote, branch: "main")
            }
            await #expect(throws: DeployError.self, "\(remote)") {
                _ = try await repository.remoteHead(remote: remote, branch: "main")
            }
        }
        #expect(trap.fired.isEmpty, "ran: \(trap.fired)")
    }

    @Test("an HTTP remote asking for credentials gets no helper, no askpass, and no cookie file of the repository's")
    func credentialsAndCookies() async throws {
        let (fixture, trap) = try hostileFixture()
        let refusal = FixtureServer.Reply(status: .unauthorized, headers: [("WWW-Authenticate", "Basic realm=\"doer\""),
                                                                           ("Set-Cookie", "trap=1; Path=/"),
                                                                           ("Content-Type", "text/plain")], chunks: ["no"])
        let server = try FixtureServer(replies: Array(repeating: refusal, count: 8))
        let repository = try await GitRepository(directory: fixture.work)
        await #expect(throws: DeployError.self) {
            _ = try await repository.push(remote: server.baseURL + "/x.git", branch: "main")
        }
        await #expect(throws: DeployError.self) {
            _ = try await repository.remoteHead(remote: server.baseURL + "/x.git", branch: "main")
        }
        #expect(!server.recorded.isEmpty, "git did reach the server")
        #expect(trap.fired.isEmpty, "ran or wrote: \(trap.fired)")
    }

    @Test("a submodule with hostile configuration and hooks runs nothing when its superproject is committed")
    func hostileSubmodule() async throws {
        let fixture = try GitFixture()
        let library = fixture.scratch.path("library")
        try sh("""
            git init -q -b main '\(library.path)' && cd '\(library.path)' && echo lib > lib.txt && git add . \
            && git -c user.name=l -c user.email=l@x commit -q -m lib
            """)
        try sh("git -c protocol.file.allow=always submodule add -q '\(library.path)' lib && git commit -q -m sub", in: fixture.work)
        let trap = try GitTrap(in: fixture.scratch.url)
        let module = fixture.work.appendingPathComponent(".git/modules/lib")
        try trap.plantHooks(in: module)
        try trap.append("""
            [core]
            \tfsmonitor = \(try trap.program("sub-fsmonitor"))
            [filter "sub"]
            \tclean = \(try trap.program("sub-clean", passThrough: true))
            \trequired = true
            """, to: module.appendingPathComponent("config"))
        try Data("* filter=sub\n".utf8).write(to: fixture.work.appendingPathComponent("lib/.gitattributes"))
        // Same size, old time stamp: git must read the file (through the filter) to know.
        try Data("LIB\n".utf8).write(to: fixture.work.appendingPathComponent("lib/lib.txt"))
        try sh("touch -d '2001-01-01' lib/lib.txt", in: fixture.work)
        try fixture.write("top.txt", "top\n")
        let log = try auditLog(in: fixture.scratch)
        _ = try await deployer(log).deploy(DeployRequest(workspace: fixture.work, branch: "doer/sub"))
        #expect(trap.fired.isEmpty, "the submodule ran: \(trap.fired)")
        // Plain git does run it: the trap is real.
        try sh("git add -A >/dev/null 2>&1; true", in: fixture.work)
        #expect(trap.fired.contains("sub-clean") || trap.fired.contains("sub-fsmonitor"), "\(trap.fired)")
    }

    @Test("a repository embedded in the work tree (committed without .gitmodules, its .git inside it) runs nothing either")
    func embeddedRepository() async throws {
        let fixture = try GitFixture()
        let inner = fixture.work.appendingPathComponent("inner")
        try sh("""
            git init -q '\(inner.path)' && cd '\(inner.path)' && echo x > f.txt && git add . \
            && git -c user.name=l -c user.email=l@x commit -q -m f && cd .. && git add inner 2>/dev/null && git commit -q -m embed
            """, in: fixture.work)
        let trap = try GitTrap(in: fixture.scratch.url)
        try trap.plantHooks(in: inner.appendingPathComponent(".git"))
        try trap.append("""
            [core]
            \tfsmonitor = \(try trap.program("inner-fsmonitor"))
            [filter "inner"]
            \tclean = \(try trap.program("inner-clean", passThrough: true))
            [include]
            \tpath = ../../inner.config
            """, to: inner.appendingPathComponent(".git/config"))
        try Data("[filter \"more\"]\n\tclean = \(try trap.program("inner-included-clean", passThrough: true))\n".utf8)
            .write(to: fixture.work.appendingPathComponent("inner.config"))
        try Data("* filter=inner\n*.more filter=more\n".utf8).write(to: inner.appendingPathComponent(".gitattributes"))
        try Data("X\n".utf8).write(to: inner.appendingPathComponent("f.txt"))
        try sh("touch -d '2001-01-01' inner/f.txt", in: fixture.work)
        let log = try auditLog(in: fixture.scratch)
        _ = try await deployer(log).deploy(DeployRequest(workspace: fixture.work, branch: "doer/embedded"))
        #expect(trap.fired.isEmpty, "the embedded repository ran: \(trap.fired)")
        try sh("git add -A >/dev/null 2>&1; true", in: fixture.work)
        #expect(!trap.fired.isEmpty, "plain git does run it")
    }
}
