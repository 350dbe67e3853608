import DoerCore
import DoerStore
import Foundation
import GRDB
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The audit trail of a CLI test's DOER_HOME.
func auditTrail(_ dir: TempDir, key: Data? = nil) throws -> AuditLog {
    try AuditLog(path: DataDirectory(environment: ["DOER_HOME": dir.home.path]).sessionDatabase, key: key)
}

@Suite("doer audit")
struct AuditCLITests {
    @Test("doer run and doer sandbox record each run with its command and exit code; the secret in the environment is redacted")
    func sandboxRunsRecorded() throws {
        let dir = try TempDir(files: ["p.py": "import sys\nsys.exit(3)\n"])
        let secret = ["SERVICE_TOKEN": "tok-0123456789-secret"]
        _ = try DoerCLI.run(["run", "p.py"], in: dir.url, environment: secret)
        _ = try DoerCLI.run(["sandbox", "--", "sh", "-c", "echo tok-0123456789-secret; exit 4"], in: dir.url, environment: secret)
        let records = try auditTrail(dir).records()
        #expect(records.map(\.kind) == ["sandbox.run", "sandbox.run"])
        #expect(records[0].details["exitCode"] == 3)
        #expect(records[1].details["exitCode"] == 4)
        #expect(records[1].details["command"] == ["sh", "-c", "echo [REDACTED:SERVICE_TOKEN]; exit 4"])
    }

    @Test("log, export --jsonl and verify; verify fails with the first broken record after tampering")
    func verifyCommand() throws {
        let dir = try TempDir()
        for text in ["one", "two", "three"] {
            #expect(try DoerCLI.run(["audit", "note", text], in: dir.url).status == 0)
        }
        let log = try DoerCLI.run(["audit", "log"], in: dir.url)
        #expect(log.stdout.split(separator: "\n").count == 3)
        #expect(log.stdout.contains("text=two"))
        let export = try DoerCLI.run(["audit", "export", "--jsonl"], in: dir.url)
        let lines = export.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["seq"] as? Int == 1)
        #expect((first["hash"] as? String)?.count == 64)
        #expect(first["prev"] as? String == AuditRecord.genesis)
        let ok = try DoerCLI.run(["audit", "verify"], in: dir.url)
        #expect(ok.status == 0)
        #expect(ok.stdout.contains("intact: 3 records"))

        let queue = try DatabaseQueue(path: dir.home.appendingPathComponent("data/doer.sqlite").path)
        try queue.write { db in
            try db.execute(sql: "DROP TRIGGER audit_no_update")
            try db.execute(sql: #"UPDATE audit SET details = '{"text":"TWO"}' WHERE seq = 2"#)
        }
        let broken = try DoerCLI.run(["audit", "verify"], in: dir.url)
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("record 2"))
    }

    @Test("records cut off the end are caught with --head")
    func truncation() throws {
        let dir = try TempDir()
        for text in ["one", "two"] { _ = try DoerCLI.run(["audit", "note", text], in: dir.url) }
        let head = try #require(try DoerCLI.run(["audit", "verify"], in: dir.url).stdout
            .split(separator: "\n").first { $0.hasPrefix("head ") }?.dropFirst(5))
        _ = try DoerCLI.run(["audit", "note", "three"], in: dir.url)
        #expect(try DoerCLI.run(["audit", "verify", "--head", String(head)], in: dir.url).status == 0, "an older head is still in the trail")
        let queue = try DatabaseQueue(path: dir.home.appendingPathComponent("data/doer.sqlite").path)
        try queue.write { db in
            try db.execute(sql: "DROP TRIGGER audit_no_delete")
            try db.execute(sql: "DELETE FROM audit WHERE seq >= 2")
        }
        let plain = try DoerCLI.run(["audit", "verify"], in: dir.url)
        #expect(plain.status == 0, "a shorter chain is still a valid chain")
        let checked = try DoerCLI.run(["audit", "verify", "--head", String(head)], in: dir.url)
        #expect(checked.status == 1)
        #expect(checked.stderr.contains("removed from its end"))
    }

    @Test("with DOER_AUDIT_KEY records are signed; another key fails verification")
    func hmacKey() throws {
        let dir = try TempDir()
        #expect(try DoerCLI.run(["audit", "note", "signed"], in: dir.url, environment: ["DOER_AUDIT_KEY": "k1"]).status == 0)
        let right = try DoerCLI.run(["audit", "verify"], in: dir.url, environment: ["DOER_AUDIT_KEY": "k1"])
        #expect(right.status == 0)
        #expect(right.stdout.contains("signatures checked"))
        let wrong = try DoerCLI.run(["audit", "verify"], in: dir.url, environment: ["DOER_AUDIT_KEY": "k2"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("HMAC mismatch"))
    }

    @Test("a doer process killed while appending loses no committed record and leaves a verifiable chain")
    func killedWhileAppending() throws {
        let dir = try TempDir()
        let process = Process()
        process.executableURL = DoerCLI.executable
        process.arguments = ["audit", "note", "stress", "--count", "1000000"]
        process.currentDirectoryURL = dir.url
        var environment = ProcessInfo.processInfo.environment
        environment["DOER_HOME"] = dir.home.path
        process.environment = environment
        try process.run()
        // Wait until it has committed a good number of records, then kill it mid-stream.
        var seen = 0
        let path = dir.home.appendingPathComponent("data/doer.sqlite").path
        for _ in 0..<600 where seen < 300 {
            usleep(50_000)
            if FileManager.default.fileExists(atPath: path), let queue = try? DatabaseQueue(path: path) {
                seen = (try? queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit") ?? 0 }) ?? 0
            }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(seen >= 300)
        let log = try auditTrail(dir)
        let verification = try log.verify()
        #expect(verification.intact, "\(String(describing: verification.firstBreak))")
        #expect(verification.records >= seen, "every record seen committed is still there")
        // And the chain goes on from where it stopped.
        #expect(try DoerCLI.run(["audit", "note", "after the crash"], in: dir.url).status == 0)
        #expect(try log.verify().records == verification.records + 1)
    }
}

@Suite("doer deploy")
struct DeployCLITests {
    /// A repository with one commit and a bare remote configured as deploy.remote.
    func repository() throws -> (TempDir, URL) {
        let dir = try TempDir()
        let work = dir.url.appendingPathComponent("work")
        let bare = dir.url.appendingPathComponent("remote.git")
        let script = """
            git init -q --bare -b main '\(bare.path)' && git init -q -b main '\(work.path)' && cd '\(work.path)' \
            && git config user.name T && git config user.email t@x && echo 1 > a.txt && git add . && git commit -q -m one \
            && git remote add origin 'file://\(bare.path)' && git push -q origin main && echo 2 > b.txt
            """
        let setup = Process()
        setup.executableURL = URL(fileURLWithPath: "/bin/sh")
        setup.arguments = ["-c", script]
        try setup.run()
        setup.waitUntilExit()
        #expect(setup.terminationStatus == 0)
        return (dir, work)
    }

    @Test("without a terminal and without --yes the deploy is refused, and the refusal is recorded")
    func noTerminal() throws {
        let (dir, work) = try repository()
        let out = try DoerCLI.run(["deploy", "--workspace", work.path, "--branch", "doer/t"], in: dir.url)
        #expect(out.status == 1)
        #expect(out.stderr.contains("no terminal"))
        #expect(out.stderr.contains("--yes"))
        let records = try auditTrail(dir).records()
        #expect(records.map(\.kind) == ["approval"])
        #expect(records[0].details["approved"] == false)
        #expect(records[0].details["method"] == "no-terminal")
    }

    @Test("--yes from the person deploys: branch pushed, approval recorded with who, status lists it")
    func yes() throws {
        let (dir, work) = try repository()
        let out = try DoerCLI.run(["deploy", "--workspace", work.path, "--branch", "doer/t", "--yes", "-m", "ship b"],
                                  in: dir.url, environment: ["USER": "ana"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("branch doer/t at"))
        let records = try auditTrail(dir).records()
        #expect(records.map(\.kind) == ["approval", "git.commit", "git.push"])
        #expect(records[0].actor == "ana")
        #expect(records[0].details["method"] == "--yes")
        let status = try DoerCLI.run(["deploy", "status"], in: dir.url)
        #expect(status.status == 0)
        #expect(status.stdout.contains("git.push"))
        #expect(status.stdout.contains("result=pushed"))
    }

    @Test("a protected branch is refused with what to do")
    func protectedBranch() throws {
        let (dir, work) = try repository()
        let out = try DoerCLI.run(["deploy", "--workspace", work.path, "--branch", "main", "--yes"], in: dir.url)
        #expect(out.status == 1)
        #expect(out.stderr.contains("protected branch"))
        #expect(out.stderr.contains("allow_protected"))
    }

    /// Runs `doer ARGS` on a pseudo-terminal (util-linux `script`), typing `input` if given
    /// and otherwise leaving the terminal silent.
    func onTerminal(_ arguments: [String], in dir: TempDir, input: String?) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        let command = ([DoerCLI.executable.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        process.arguments = ["-qec", command, "/dev/null"]
        process.currentDirectoryURL = dir.url
        var environment = ProcessInfo.processInfo.environment
        environment["DOER_HOME"] = dir.home.path
        environment["USER"] = "terminal-person"
        process.environment = environment
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try stdin.fileHandleForWriting.close()
        return String(decoding: output, as: UTF8.self)
    }

    @Test("on a terminal, y approves and the person is recorded; silence until the timeout refuses")
    func terminalPrompt() throws {
        let (dir, work) = try repository()
        let config = dir.home.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try "[deploy]\napproval_timeout = 1\n".write(to: config.appendingPathComponent("config.toml"), atomically: true, encoding: .utf8)
        let silent = try onTerminal(["deploy", "--workspace", work.path, "--branch", "doer/silent"], in: dir, input: nil)
        #expect(silent.contains("Deploy? [y/N]"))
        #expect(silent.contains("no answer within 1 s"))
        let approved = try onTerminal(["deploy", "--workspace", work.path, "--branch", "doer/tty"], in: dir, input: "y\n")
        #expect(approved.contains("pushed doer/tty"), "\(approved)")
        let records = try auditTrail(dir).records()
        #expect(records.map(\.kind) == ["approval", "approval", "git.commit", "git.push"])
        #expect(records[0].details["method"] == "timeout")
        #expect(records[0].details["approved"] == false)
        #expect(records[1].details["method"] == "terminal")
        #expect(records[1].actor == "terminal-person")
    }

    @Test("--session takes the workspace, the branch name and the commit message from the session")
    func fromSession() throws {
        let (dir, work) = try repository()
        let store = try SessionStore(path: DataDirectory(environment: ["DOER_HOME": dir.home.path]).sessionDatabase)
        let session = try store.createSession(task: "add b.txt with the number two", workspace: work.path)
        try store.append(.plan(Plan(steps: ["write b.txt"], files: ["b.txt"], language: "text", testStrategy: "cat it")), to: session.id)
        let out = try DoerCLI.run(["deploy", "--session", String(session.id.prefix(8)), "--yes"], in: dir.url)
        #expect(out.status == 0, "\(out.stderr)")
        let branch = "doer/\(session.id.prefix(8))"
        #expect(out.stdout.contains("branch \(branch) at"))
        let log = Process()
        log.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        log.arguments = ["-C", work.path, "log", "-1", "--format=%B", branch]
        let pipe = Pipe()
        log.standardOutput = pipe
        try log.run()
        let message = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        log.waitUntilExit()
        #expect(message.hasPrefix("add b.txt with the number two\n"))
        #expect(message.contains("- write b.txt"))
        #expect(message.contains("Doer-Session: \(session.id)"))
        let records = try auditTrail(dir).records(session: session.id)
        #expect(records.map(\.kind) == ["approval", "git.commit", "git.push"])
    }
}
