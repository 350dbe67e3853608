import DoerCore
@testable import DoerSandbox
import Foundation
import Testing

/// A bubblewrap sandbox serves several runs of one shape, reset between them. Each test here
/// tries to carry something from one run into the next through the reused sandbox: a
/// process, a file in a scratch folder or in `/dev`, an IPC object, a file in the view, late
/// output. The sandbox's identity is its pid namespace and its pid 1's start time.
@Suite("sandbox reuse: nothing of one run reaches the next", .serialized)
struct SandboxReuseTests {
    final class Reusing: @unchecked Sendable {
        let engine: SandboxEngine
        let sandbox: any Sandbox
        let workspace: ScratchWorkspace

        init(runsPerSandbox: Int = SandboxConfiguration.defaultRunsPerSandbox, files: [String: String] = [:]) throws {
            var configuration = TestSandboxes.configuration
            configuration.runsPerSandbox = runsPerSandbox
            sandbox = try SandboxFactory(configuration: configuration).make(.bubblewrap)
            engine = try #require(sandbox as? SandboxEngine)
            workspace = try ScratchWorkspace(files: files)
        }

        func run(_ script: String, stdin: Data = Data(), apply: Bool = false, seconds: Double = 20,
                 writable: [String] = []) async throws -> ExecutionResult {
            var request = ExecutionRequest(command: ["sh", "-c", script], workspace: workspace.url, stdin: stdin,
                                           limits: ResourceLimits(wallClockSeconds: seconds))
            request.applyChanges = apply
            request.writablePaths = writable
            let result = try await sandbox.run(request)
            // The sandbox goes back to the pool once its view is emptied, off the run's path.
            let path = SandboxShape(request).workspace
            for _ in 0..<100 where result.sandboxKept == true && engine.poolForTesting?.idleCount(workspace: path) == 0 {
                try await Task.sleep(for: .milliseconds(20))
            }
            return result
        }

        /// The sandbox's pid namespace and its pid 1's start time (field 22 of /proc/1/stat,
        /// in clock ticks: two sandboxes may start in one), printed first.
        static let identity = "echo $(readlink /proc/1/ns/pid)-$(cut -d' ' -f22 /proc/1/stat); "

        static func sandboxID(_ result: ExecutionResult) -> String {
            String(result.stdout.text.split(separator: "\n").first ?? "")
        }
    }

    @Test("a second run of the same shape is served by the same sandbox, a third past the allowance by a new one")
    func reusedWithinAllowance() async throws {
        let reusing = try Reusing(runsPerSandbox: 2)
        let first = try await reusing.run(Reusing.identity + "echo one")
        let second = try await reusing.run(Reusing.identity + "echo two")
        let third = try await reusing.run(Reusing.identity + "echo three")
        #expect(first.termination == .exited(0) && second.termination == .exited(0) && third.termination == .exited(0), "\(first.stderr.text)\(second.stderr.text)")
        #expect(Reusing.sandboxID(first) == Reusing.sandboxID(second), "the second run reused the first's sandbox")
        #expect(Reusing.sandboxID(third) != Reusing.sandboxID(second), "two runs is the allowance")
        #expect(second.stdout.text.hasSuffix("two\n") && !second.stdout.text.contains("one"))
    }

    @Test("processes, scratch files, /dev entries, System V IPC and view files of one run are gone in the next")
    func nothingCarriesOver() async throws {
        let reusing = try Reusing(files: ["kept.txt": "original\n"])
        let plant = """
            (setsid sleep 300 >/dev/null 2>&1 &) ; (sleep 300 &) ; \
            echo secret > /tmp/left; mkdir -p /tmp/deep/er && chmod 000 /tmp/deep; \
            echo secret > /dev/shm/left; echo secret > /dev/left; mkdir /dev/leftdir; \
            python3 -c 'import ctypes; libc = ctypes.CDLL(None); print("shm", libc.shmget(0, 4096, 0o1600)); print("sem", libc.semget(0, 1, 0o1600)); print("msg", libc.msgget(0, 0o1600))'; \
            echo planted > /workspace/planted.txt; echo changed > /workspace/kept.txt; chmod 000 /workspace
            """
        let first = try await reusing.run(Reusing.identity + plant)
        #expect(first.termination == .exited(0), "\(first.stderr.text)")
        #expect(!first.stdout.text.contains("shm -1") && !first.stdout.text.contains("sem -1") && !first.stdout.text.contains("msg -1"),
                "the IPC objects were made: \(first.stdout.text)")
        #expect(first.sandboxKept == true, "a run that left all this is still reset clean")
        let look = """
            ls /proc | grep -c '^[0-9]' ; ls -A /tmp /dev/shm ; ls /dev | tr '\\n' ' ' ; echo ; \
            tail -n +2 /proc/sysvipc/shm /proc/sysvipc/sem /proc/sysvipc/msg | grep -v '^==' | grep -c . ; \
            ls -A /workspace ; cat /workspace/kept.txt
            """
        let second = try await reusing.run(Reusing.identity + look)
        #expect(Reusing.sandboxID(second) == Reusing.sandboxID(first), "the same sandbox served both")
        let lines = second.stdout.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // pid 1, the shell, ls and grep: no sleep left.
        #expect(Int(lines[1]) ?? 99 <= 4, "processes: \(second.stdout.text)")
        #expect(!second.stdout.text.contains("left"), "\(second.stdout.text)")
        #expect(!second.stdout.text.contains("deep") && !second.stdout.text.contains("planted"), "\(second.stdout.text)")
        #expect(lines.contains("0"), "no IPC object is left: \(second.stdout.text)")
        #expect(second.stdout.text.contains("original") && !second.stdout.text.contains("changed"), "\(second.stdout.text)")
        #expect(reusing.workspace.read("kept.txt") == "original\n", "nothing was applied")
    }

    @Test("output written late by a background process of one run never shows in the next")
    func lateOutputStaysWithItsRun() async throws {
        let reusing = try Reusing()
        let first = try await reusing.run(Reusing.identity + "(sleep 0.3; echo late; echo late >&2) & echo one")
        try await Task.sleep(for: .milliseconds(500))
        let second = try await reusing.run(Reusing.identity + "echo two")
        #expect(Reusing.sandboxID(second) == Reusing.sandboxID(first))
        #expect(!first.stdout.text.contains("late") && !second.stdout.text.contains("late") && !second.stderr.text.contains("late"))
        #expect(second.stdout.text.hasSuffix("two\n"))
    }

    @Test("a run that replaces one of /dev's own entries is not reset clean: the next run gets a new sandbox")
    func swappedDevEntryEndsTheSandbox() async throws {
        let reusing = try Reusing()
        let first = try await reusing.run(Reusing.identity + "rm /dev/stdout && echo fake > /dev/stdout; echo done")
        #expect(first.sandboxKept != true)
        let second = try await reusing.run(Reusing.identity + "readlink /dev/stdout")
        #expect(Reusing.sandboxID(second) != Reusing.sandboxID(first))
        #expect(second.stdout.text.contains("/proc/self/fd/1"), "\(second.stdout.text)")
    }

    @Test("POSIX message queues, which no reset could list, cannot be made")
    func messageQueuesRefused() async throws {
        let reusing = try Reusing()
        let result = try await reusing.run("""
            python3 -c 'import ctypes; libc = ctypes.CDLL(None, use_errno=True); print(libc.mq_open(b"/doer", 0o100 | 2, 0o600, None), ctypes.get_errno())'
            """)
        #expect(result.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines) == "-1 \(EPERM)", "\(result.stdout.text)\(result.stderr.text)")
    }

    @Test("a run that timed out leaves a sandbox that serves the next run normally")
    func afterTimeout() async throws {
        let reusing = try Reusing()
        let first = try await reusing.run(Reusing.identity + "sleep 30", seconds: 1)
        #expect(first.timedOut)
        let second = try await reusing.run(Reusing.identity + "echo fine")
        #expect(second.termination == .exited(0) && second.stdout.text.hasSuffix("fine\n"), "\(second.stderr.text)")
        #expect(Reusing.sandboxID(second) == Reusing.sandboxID(first))
    }

    @Test("a run with input after a reused one gets a sandbox whose input is open, and reads it")
    func inputAfterReuse() async throws {
        let reusing = try Reusing()
        _ = try await reusing.run("true")
        let fed = try await reusing.run("cat", stdin: Data("fed\n".utf8))
        #expect(fed.stdout.text == "fed\n")
        #expect(fed.sandboxKept != true, "a sandbox whose input was used is not kept")
    }

    @Test("changes a reused sandbox's run makes are applied, each run from the workspace as it is then")
    func changesStillApplied() async throws {
        let reusing = try Reusing(files: ["n.txt": "0\n"])
        for step in 1...3 {
            let result = try await reusing.run("echo $(( $(cat n.txt) + 1 )) > n.txt", apply: true)
            #expect(result.termination == .exited(0), "\(result.stderr.text)")
            #expect(reusing.workspace.read("n.txt") == "\(step)\n")
        }
    }

    @Test("a cache folder removed and made again between two runs is not the one the kept sandbox mounted: the next run gets a new sandbox that sees the new folder")
    func replacedCacheFolder() async throws {
        let reusing = try Reusing()
        let cache = try ScratchWorkspace()
        chmod(cache.url.path, 0o777)
        let first = try await reusing.run(Reusing.identity + "echo old > \(cache.url.path)/built", writable: [cache.url.path])
        #expect(first.sandboxKept == true, "\(first.stderr.text)")
        try FileManager.default.removeItem(at: cache.url)
        try cache.write("fresh", "new\n")
        chmod(cache.url.path, 0o777)
        let second = try await reusing.run(Reusing.identity + "ls \(cache.url.path)", writable: [cache.url.path])
        #expect(Reusing.sandboxID(second) != Reusing.sandboxID(first))
        #expect(second.stdout.text.contains("fresh") && !second.stdout.text.contains("built"), "\(second.stdout.text)")
    }

    @Test("runs_per_sandbox = 1 starts a sandbox for every run")
    func reuseOff() async throws {
        let reusing = try Reusing(runsPerSandbox: 1)
        let first = try await reusing.run(Reusing.identity)
        let second = try await reusing.run(Reusing.identity)
        #expect(first.sandboxKept != true && Reusing.sandboxID(first) != Reusing.sandboxID(second))
    }
}

/// Groups a run left behind (Doer killed, a slow teardown) are removed by the next Doer.
@Suite("cgroups left behind", .serialized, .enabled(if: CgroupLimiter.detected != nil, "needs a writable cgroup (root)"))
struct AbandonedCgroupTests {
    @Test("an empty doer group made over a minute ago is removed; a recent one, one holding a process and one not Doer's stay")
    func sweep() async throws {
        let limiter = try #require(CgroupLimiter.detected)
        let parent = try #require(limiter.parents.first)
        let old = time(nil) - 120
        let abandoned = parent + "/" + CgroupLimiter.groupName(createdAt: old)
        let recent = parent + "/" + CgroupLimiter.groupName()
        let busy = parent + "/" + CgroupLimiter.groupName(createdAt: old)
        let foreign = parent + "/other-\(UUID().uuidString.prefix(6).lowercased())"
        for dir in [abandoned, recent, busy, foreign] { #expect(mkdir(dir, 0o755) == 0, "\(dir)") }
        // A holder no other test would take for one of its own leftovers (a plain `sleep`).
        let holder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-cgroup-holder-\(UUID().uuidString.prefix(6))")
        try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: holder.path)
        let sleeper = Process()
        sleeper.executableURL = holder
        sleeper.arguments = ["30"]
        try sleeper.run()
        defer {
            try? FileManager.default.removeItem(at: holder)
            kill(sleeper.processIdentifier, SIGKILL)
            sleeper.waitUntilExit()
            for _ in 0..<50 where rmdir(busy) != 0 && errno == EBUSY { usleep(20_000) }
            for dir in [foreign, recent, abandoned] { rmdir(dir) }
        }
        try Data("\(sleeper.processIdentifier)".utf8).write(to: URL(fileURLWithPath: busy + "/cgroup.procs"))
        #expect(CgroupLimiter.holdsNoProcess(abandoned) && !CgroupLimiter.holdsNoProcess(busy))
        limiter.sweepAbandoned()
        #expect(!FileManager.default.fileExists(atPath: abandoned))
        #expect(FileManager.default.fileExists(atPath: recent), "a group made just now may be about to be joined")
        #expect(sleeper.isRunning, "the group's process was still there when the sweep ran")
        #expect(FileManager.default.fileExists(atPath: busy), "a group in use stays")
        #expect(FileManager.default.fileExists(atPath: foreign), "only Doer's groups are touched")
        #expect(CgroupLimiter.creationTime(ofGroup: (abandoned as NSString).lastPathComponent) == old)
    }
}
