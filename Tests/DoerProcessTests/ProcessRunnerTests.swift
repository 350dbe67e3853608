import DoerProcess
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("ProcessRunner")
struct ProcessRunnerTests {
    @Test("an exit code and both streams are reported as the program left them")
    func exitStatusAndStreams() async throws {
        let output = try await ProcessRunner().run("sh", ["-c", "echo out; echo err >&2; exit 3"])
        #expect(output.status == 3)
        #expect(output.signal == nil)
        #expect(!output.succeeded)
        #expect(!output.timedOut)
        #expect(output.stdout == "out\n")
        #expect(output.stderr == "err\n")
        #expect(output.statusDescription == "exit code 3")
        #expect(output.tail() == "err")

        let passed = try await ProcessRunner().run("/bin/sh", ["-c", "echo fine"])
        #expect(passed.succeeded)
        #expect(passed.tail() == "fine")
    }

    @Test("a program ended by a signal reports it, with the status a shell would give")
    func signalled() async throws {
        let output = try await ProcessRunner().run("sh", ["-c", "kill -TERM $$"])
        #expect(output.signal == SIGTERM)
        #expect(output.status == 128 + SIGTERM)
        #expect(!output.succeeded)
        #expect(output.statusDescription == "killed by signal \(SIGTERM)")
    }

    @Test("output past the limit keeps its last bytes and says it was cut")
    func outputTailIsCapped() async throws {
        // 200,000 numbered lines on stdout and on stderr at once: neither pipe may stall the other.
        let script = "i=0; while [ $i -lt 200000 ]; do echo line$i; echo err$i >&2; i=$((i+1)); done; echo END"
        let output = try await ProcessRunner(outputLimit: 4096).run("sh", ["-c", script])
        #expect(output.succeeded)
        #expect(output.truncated)
        #expect(output.stdout.utf8.count <= 4096)
        #expect(output.stdout.utf8.count > 4000)
        #expect(output.stdout.hasSuffix("line199999\nEND\n"))
        #expect(output.stderr.hasSuffix("err199999\n"))
        #expect(!output.stdout.contains("line0\n"))
        #expect(output.tail(lines: 2) == "err199998\nerr199999")

        let small = try await ProcessRunner(outputLimit: 4096).run("sh", ["-c", "echo short"])
        #expect(!small.truncated)
        #expect(small.stdout == "short\n")
    }

    @Test("a cut that falls inside a character drops the half character")
    func tailStartsOnACharacter() async throws {
        // "é" is two bytes; 3 of them plus a newline is 7 bytes, cut to the last 4.
        let output = try await ProcessRunner(outputLimit: 4).run("printf", ["\u{e9}\u{e9}\u{e9}\n"])
        #expect(output.truncated)
        #expect(output.stdout == "\u{e9}\n")
        #expect(!output.stdout.contains("\u{fffd}"))
    }

    @Test("a program past its timeout is terminated, with what it printed before")
    func timeoutTerminates() async throws {
        // Long enough for `sh` to print on a loaded machine, far short of the sleep.
        let output = try await ProcessRunner(timeout: .seconds(3)).run("sh", ["-c", "echo started; exec sleep 60"])
        #expect(output.timedOut)
        #expect(!output.succeeded)
        #expect(output.signal == SIGTERM)
        #expect(output.stdout == "started\n")
        #expect(output.statusDescription.hasPrefix("timed out"))
    }

    @Test("what a program printed before its timeout is kept when the machine reads it late")
    func lateReaderKeepsOutput() async throws {
        let runner = ProcessRunner(timeout: .milliseconds(700), terminationGrace: .milliseconds(200))
        // It prints before its timeout (which counts from its start), once the pool below is
        // busy. Printing after the timeout instead raced other tests' tasks, run in parallel
        // in this process: a thread they freed could act on the timer before the print.
        async let output = runner.run("sh", ["-c", "sleep 0.35; echo started; exec sleep 60"])
        try await Task.sleep(for: .milliseconds(100))
        // Every thread of the concurrency pool busy past the timeout: the output waits in the
        // pipe until after the timer has fired, as on a loaded machine.
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<ProcessInfo.processInfo.activeProcessorCount { group.addTask { usleep(1_500_000) } }
        }
        let result = try await output
        #expect(result.timedOut && result.signal == SIGTERM)
        #expect(result.stdout == "started\n")
    }

    @Test("a program that ignores SIGTERM is killed after the grace period, and so is what it started")
    func timeoutKillsTheGroup() async throws {
        // The timeout leaves `sh` time to start the sleep and print its pid on a loaded machine
        // (300 ms was not always enough beside a parallel test run).
        let runner = ProcessRunner(timeout: .seconds(3), terminationGrace: .milliseconds(200))
        // The background sleep is a grandchild that would otherwise hold stdout open for a minute.
        let output = try await runner.run("sh", ["-c", "trap '' TERM; sleep 60 & echo $!; wait"])
        #expect(output.timedOut)
        #expect(output.signal == SIGKILL)
        let grandchild = try #require(pid_t(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        // Killed with the group; it may take a moment to be gone after its parent was reaped.
        for _ in 0..<500 where Self.isAlive(grandchild) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(!Self.isAlive(grandchild))
    }

    @Test("a missing program is an error that names it and where it was looked for")
    func missingExecutable() async throws {
        let runner = ProcessRunner(environment: .inherited(setting: ["PATH": "/nonexistent-a:/nonexistent-b"]))
        let error = await #expect(throws: ProcessError.self) { try await runner.run("sh", ["-c", "true"]) }
        #expect(error == .notFound(program: "sh", searched: "/nonexistent-a:/nonexistent-b"))
        #expect(error?.description == "sh: not found in PATH (/nonexistent-a:/nonexistent-b)")

        let byPath = await #expect(throws: ProcessError.self) { try await ProcessRunner().run("/nonexistent/doer-tool", []) }
        #expect(byPath?.description == "/nonexistent/doer-tool: no such executable file")
    }

    @Test("the environment is the inherited one with changes, or exactly the one given")
    func environment() async throws {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        // scripts/swift-test.sh sets it before the bundle starts (see there why); set it here
        // only when the bundle was started some other way, and leave it.
        if getenv("DOER_PROCESS_TEST_INHERITED") == nil { setenv("DOER_PROCESS_TEST_INHERITED", "yes", 1) }
        let script = "echo ${DOER_PROCESS_TEST_INHERITED-unset} ${DOER_PROCESS_TEST_SET-unset}"

        let inherited = try await ProcessRunner(environment: .inherited(setting: ["DOER_PROCESS_TEST_SET": "1"])).run("sh", ["-c", script])
        #expect(inherited.stdout == "yes 1\n")
        let unset = try await ProcessRunner(environment: .inherited(unsetting: ["DOER_PROCESS_TEST_INHERITED"])).run("sh", ["-c", script])
        #expect(unset.stdout == "unset unset\n")
        let exact = try await ProcessRunner(environment: .exactly(["PATH": path, "DOER_PROCESS_TEST_SET": "2"])).run("sh", ["-c", script])
        #expect(exact.stdout == "unset 2\n")
    }

    @Test("a name is looked up in the PATH the program is given")
    func lookupUsesTheProgramsPath() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("doer-process-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let tool = folder.appendingPathComponent("doer-test-tool")
        try Data("#!/bin/sh\necho from the given PATH\n".utf8).write(to: tool)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tool.path)

        let output = try await ProcessRunner(environment: .exactly(["PATH": folder.path])).run("doer-test-tool", [])
        #expect(output.stdout == "from the given PATH\n")
        await #expect(throws: ProcessError.self) { try await ProcessRunner().run("doer-test-tool", []) }
    }

    @Test("a detached program runs in its own session, logs to its file and is terminated on request")
    func detached() async throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("doer-detached-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let pid = try DetachedProcess.spawn(executable: "/bin/sh", arguments: ["-c", "echo up; exec sleep 60"],
                                            environment: ["PATH": "/usr/bin:/bin"], log: log)
        #expect(DetachedProcess.isRunning(pid))
        #expect(getsid(pid) == pid)
        for _ in 0..<500 where ((try? Data(contentsOf: log)) ?? Data()).isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        await DetachedProcess.terminate(pid, graceSeconds: 5)
        #expect(!DetachedProcess.isRunning(pid))
        #expect(try String(contentsOf: log, encoding: .utf8) == "up\n")

        #expect(throws: ProcessError.notFound(program: "/nonexistent/server", searched: "")) {
            try DetachedProcess.spawn(executable: "/nonexistent/server", arguments: [], environment: [:], log: log)
        }
    }

    /// Whether `pid` is a process that is not (yet) reaped and not a zombie either.
    private static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        #if os(Linux)
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(end, offsetBy: 2)]
        return state != "Z" && state != "X"
        #else
        return true
        #endif
    }
}
