import DoerCore
import DoerDeploy
import DoerStore
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("git deploy", .serialized)
struct GitPushTests {
    func deployer(_ log: AuditLog, settings: DeploySettings = DeploySettings(), approved: Bool = true) -> Deployer {
        Deployer(settings: settings, audit: log, actor: "tester", approver: ScriptedApprover(approved: approved), environment: [:])
    }

    @Test("commits the workspace's changes on a branch with the session trailer and pushes it over file://")
    func pushFile() async throws {
        let fixture = try GitFixture()
        let log = try auditLog(in: fixture.scratch)
        try fixture.write("app.py", "print('hi')\n")
        let plan = Plan(steps: ["write app.py", "run it"], files: ["app.py"], language: "python", testStrategy: "run the script")
        let report = try await deployer(log).deploy(DeployRequest(
            workspace: fixture.work, branch: "doer/feature", session: "0123abcd-session", task: "add a greeting script", plan: plan))
        #expect(report.committed)
        #expect(try fixture.remoteBranch("doer/feature") == report.commit)
        let lsRemote = try sh("git ls-remote 'file://\(fixture.bare.path)' refs/heads/doer/feature")
        #expect(lsRemote.hasPrefix(report.commit))
        let message = try sh("git -C '\(fixture.work.path)' log -1 --format=%B")
        #expect(message.hasPrefix("add a greeting script\n"))
        #expect(message.contains("- write app.py"))
        #expect(message.contains("Doer-Session: 0123abcd-session"))
        #expect(message.contains("Doer-Approved-By: tester"))
        let trailer = try sh("git -C '\(fixture.work.path)' log -1 --format='%(trailers:key=Doer-Session,valueonly)'")
        #expect(trailer.trimmingCharacters(in: .whitespacesAndNewlines) == "0123abcd-session")

        let records = try log.records()
        #expect(records.map(\.kind) == ["approval", "git.commit", "git.push"])
        #expect(records[0].details["approved"] == true)
        #expect(records[0].actor == "tester")
        let files = try #require(records[1].details["files"])
        guard case .array(let list) = files else { Issue.record("files is not a list"); return }
        #expect(list.contains { $0["path"] == "app.py" && $0["sha256"]?.stringValue?.count == 64 })
        #expect(records[2].details["result"] == "pushed")
        #expect(records.allSatisfy { $0.sessionID == "0123abcd-session" })
        #expect(try log.verify().intact)
    }

    @Test("refuses a protected branch before asking anyone, and records the refusal")
    func protectedBranch() async throws {
        let fixture = try GitFixture()
        let log = try auditLog(in: fixture.scratch)
        try fixture.write("x.txt", "x")
        let before = try fixture.remoteBranch("main")
        await #expect(throws: DeployError.protectedBranch("main")) {
            try await deployer(log).deploy(DeployRequest(workspace: fixture.work, branch: "main"))
        }
        #expect(try fixture.remoteBranch("main") == before)
        #expect(try log.records().map(\.kind) == ["deploy.refused"])
        // Allowed when configured.
        var settings = DeploySettings()
        settings.allowProtected = true
        _ = try await deployer(log, settings: settings).deploy(DeployRequest(workspace: fixture.work, branch: "main"))
        #expect(try fixture.remoteBranch("main") != before)
    }

    @Test("a refused approval changes nothing and is recorded with who and how")
    func denied() async throws {
        let fixture = try GitFixture()
        let log = try auditLog(in: fixture.scratch)
        try fixture.write("x.txt", "x")
        await #expect(throws: DeployError.approvalDenied("said no")) {
            try await deployer(log, approved: false).deploy(DeployRequest(workspace: fixture.work, branch: "doer/no"))
        }
        #expect(try fixture.remoteBranch("doer/no") == nil)
        let status = try sh("git -C '\(fixture.work.path)' status --porcelain")
        #expect(status.contains("x.txt"), "the change is still uncommitted")
        let records = try log.records()
        #expect(records.map(\.kind) == ["approval"])
        #expect(records[0].details["approved"] == false)
        #expect(records[0].details["method"] == "scripted")
    }

    @Test("never force-pushes: a diverged remote branch is refused")
    func noForce() async throws {
        let fixture = try GitFixture()
        let log = try auditLog(in: fixture.scratch)
        // Someone else pushed to the branch from another clone.
        let other = fixture.scratch.path("other")
        try sh("""
            git clone -q 'file://\(fixture.bare.path)' '\(other.path)' && cd '\(other.path)' && git switch -q -c doer/shared \
            && echo theirs > theirs.txt && git add . && git -c user.name=o -c user.email=o@x commit -q -m theirs \
            && git push -q origin doer/shared
            """)
        let theirs = try fixture.remoteBranch("doer/shared")
        try fixture.write("mine.txt", "mine")
        await #expect(throws: DeployError.self) {
            try await deployer(log).deploy(DeployRequest(workspace: fixture.work, branch: "doer/shared"))
        }
        #expect(try fixture.remoteBranch("doer/shared") == theirs, "their commit is still there")
        #expect(try log.records().last?.details["result"] == "failed")
    }

    @Test("pushes to a real git daemon on loopback")
    func pushDaemon() async throws {
        let fixture = try GitFixture()
        let daemon = try GitDaemon(base: fixture.scratch.url)
        let log = try auditLog(in: fixture.scratch)
        try fixture.write("net.txt", "over the network\n")
        let report = try await deployer(log).deploy(DeployRequest(
            workspace: fixture.work, remote: daemon.url("remote.git"), branch: "doer/network"))
        let lsRemote = try sh("git ls-remote \(daemon.url("remote.git")) refs/heads/doer/network")
        #expect(lsRemote.hasPrefix(report.commit))
        #expect(try log.records().last?.details["remote"]?.stringValue == daemon.url("remote.git"))
    }

    @Test("a server that dies in the middle of a push gives a clear error and nothing recorded as pushed")
    func serverDiesMidPush() async throws {
        let fixture = try GitFixture()
        let daemon = try GitDaemon(base: fixture.scratch.url)
        // After the pack has arrived and before any ref is updated, the server is killed:
        // the daemon, its connection handler and receive-pack.
        let hook = fixture.bare.appendingPathComponent("hooks/pre-receive")
        try Data("""
            #!/bin/sh
            cat > /dev/null
            RP=$PPID
            CONN=$(awk '{print $4}' /proc/$RP/stat)
            kill -9 \(daemon.process.processIdentifier) $CONN $RP
            exit 1

            """.utf8).write(to: hook)
        try sh("chmod +x '\(hook.path)'")
        let log = try auditLog(in: fixture.scratch)
        try fixture.write("big.bin", String(repeating: "payload line\n", count: 50_000))
        let error = await #expect(throws: DeployError.self) {
            try await deployer(log).deploy(DeployRequest(workspace: fixture.work, remote: daemon.url("remote.git"), branch: "doer/dies"))
        }
        guard case .pushFailed(let remote, let branch, let output) = error else {
            Issue.record("expected pushFailed, got \(String(describing: error))")
            return
        }
        #expect(remote == daemon.url("remote.git"))
        #expect(branch == "doer/dies")
        #expect(!output.isEmpty)
        print("push error as reported: \(error?.description ?? "")")
        #expect(error?.description.contains("Nothing was recorded as pushed") == true)
        daemon.process.waitUntilExit()
        #expect(!daemon.process.isRunning, "the server is gone")
        #expect(try fixture.remoteBranch("doer/dies") == nil)
        let records = try log.records()
        #expect(records.map(\.kind) == ["approval", "git.commit", "git.push"])
        #expect(records.last?.details["result"] == "failed")
        #expect(!records.contains { $0.details["result"] == "pushed" })
        #expect(try log.verify().intact)
    }

    @Test("bad input: not a repository, an invalid branch name, an unknown CI target")
    func badInput() async throws {
        let scratch = try Scratch()
        let log = try auditLog(in: scratch)
        await #expect(throws: DeployError.notARepository(scratch.url.path)) {
            try await deployer(log).deploy(DeployRequest(workspace: scratch.url, branch: "x"))
        }
        let fixture = try GitFixture()
        await #expect(throws: DeployError.self) {
            try await deployer(log).deploy(DeployRequest(workspace: fixture.work, branch: "bad..name"))
        }
        await #expect(throws: DeployError.unknownTarget("travis", known: DeployTargetRegistry.names)) {
            try await deployer(log).deploy(DeployRequest(workspace: fixture.work, branch: "doer/ok", ci: "travis"))
        }
        #expect(try log.records().isEmpty, "nothing was asked or done")
    }

    @Test("commit messages: subject from the task, plan in the body, trailers last")
    func commitMessage() {
        let message = CommitMessage(message: nil, task: "fix the parser\nmore detail", plan: Plan(steps: ["a", "b"], files: [], language: "c", testStrategy: "make test"),
                                    session: "s-1", approvedBy: "ana")
        #expect(message.text == "fix the parser\n\nPlan:\n- a\n- b\n\nTests: make test\n\nDoer-Session: s-1\nDoer-Approved-By: ana\n")
        #expect(CommitMessage(message: nil, task: nil, plan: nil, session: nil, approvedBy: nil).text == "Changes shipped with doer\n")
    }
}
