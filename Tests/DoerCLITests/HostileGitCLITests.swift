import DoerStore
import DoerTestSupport
import Foundation
import Testing

/// `doer deploy` on a working tree whose `.git` was made hostile by hand: hooks, every
/// program key, includes, a `core.worktree` elsewhere, attributes that route every file
/// through the planted filter.
@Suite("doer deploy on a hostile repository")
struct HostileGitCLITests {
    func hostileRepository() throws -> (TempDir, URL, GitTrap) {
        let (dir, work) = try DeployCLITests().repository()
        let trap = try GitTrap(in: dir.root)
        try trap.plant(workTree: work)
        try Data("print('hi')\n".utf8).write(to: work.appendingPathComponent("app.py"))
        return (dir, work, trap)
    }

    @Test("refused for want of a terminal: the git status it runs for the summary runs nothing")
    func refusedWithoutTerminal() throws {
        let (dir, work, trap) = try hostileRepository()
        let out = try DoerCLI.run(["deploy", "--workspace", work.path, "--branch", "doer/t"], in: dir.url)
        #expect(out.status == 1)
        #expect(out.stderr.contains("no terminal"), "\(out.stderr)")
        #expect(trap.fired.isEmpty, "ran before any approval: \(trap.fired)")
    }

    @Test("refused on the terminal, and approved there: neither runs anything")
    func terminal() throws {
        let (dir, work, trap) = try hostileRepository()
        let refused = try DeployCLITests().onTerminal(["deploy", "--workspace", work.path, "--branch", "doer/no"], in: dir, input: "n\n")
        #expect(refused.contains("Deploy? [y/N]"), "\(refused)")
        #expect(refused.contains("app.py"), "the summary lists the change: \(refused)")
        #expect(trap.fired.isEmpty, "ran: \(trap.fired)")
        let approved = try DeployCLITests().onTerminal(["deploy", "--workspace", work.path, "--branch", "doer/yes"], in: dir, input: "y\n")
        #expect(approved.contains("pushed doer/yes"), "\(approved)")
        #expect(trap.fired.isEmpty, "ran: \(trap.fired)")
    }

    @Test("--yes deploys (commit, push) and runs nothing; deploy status afterwards runs nothing either")
    func approvedAndStatus() throws {
        let (dir, work, trap) = try hostileRepository()
        let out = try DoerCLI.run(["deploy", "--workspace", work.path, "--branch", "doer/t", "--yes", "-m", "ship"], in: dir.url)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("branch doer/t at"))
        #expect(try auditTrail(dir).records().map(\.kind) == ["approval", "git.commit", "git.push"])
        for folder in [dir.url, work] {
            let status = try DoerCLI.run(["deploy", "status"], in: folder, environment: ["DOER_HOME": dir.home.path])
            #expect(status.status == 0)
            #expect(status.stdout.contains("result=pushed"), "\(status.stdout)")
        }
        #expect(trap.fired.isEmpty, "ran: \(trap.fired)")
    }

    @Test("a setting no override can beat is refused with what to do, before anyone is asked")
    func unoverridable() throws {
        let (dir, work, trap) = try hostileRepository()
        try trap.append("[remote \"origin\"]\n\treceivepack = \(try trap.program("receivepack")); git-receive-pack",
                        to: work.appendingPathComponent(".git/config"))
        let out = try DoerCLI.run(["deploy", "--workspace", work.path, "--branch", "doer/t", "--yes"], in: dir.url)
        #expect(out.status == 1)
        #expect(out.stderr.contains("remote.origin.receivepack") && out.stderr.contains("--unset-all"), "\(out.stderr)")
        #expect(try auditTrail(dir).records().isEmpty)
        #expect(trap.fired.isEmpty, "ran: \(trap.fired)")
    }
}
