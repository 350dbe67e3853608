public import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts a long-lived program in its own session, detached from Doer: stdin from
/// /dev/null, stdout and stderr appended to a log file, no other inherited descriptor,
/// default signal handling. It outlives the Doer process that started it (the server is
/// shared), and neither Ctrl-C nor a closed terminal reaches it: the local model's
/// llama-server. Not on swift-subprocess, whose `run` ends only when the program does.
public enum DetachedProcess {
    public static func spawn(executable: String, arguments: [String], environment: [String: String], log: URL) throws -> pid_t {
        let logDescriptor = open(log.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard logDescriptor >= 0 else {
            throw ProcessError.couldNotStart(program: executable, reason: "cannot open \(log.path): \(String(cString: strerror(errno)))")
        }
        defer { close(logDescriptor) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, logDescriptor, 1)
        posix_spawn_file_actions_adddup2(&actions, logDescriptor, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        // Doer may ignore SIGPIPE (and the test runner others); ignored signals survive exec.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK) | Int32(POSIX_SPAWN_SETSIGDEF)
        #if os(Linux)
        // glibc's POSIX_SPAWN_SETSID (a GNU extension Swift does not import).
        flags |= 0x80
        // Descriptors other code in Doer opened without O_CLOEXEC (pipes of a concurrent
        // helper process, say) must not leak into a server that lives on: a leaked pipe
        // end would keep its reader from ever seeing end of file.
        if let closeFrom = closeFromAction {
            _ = closeFrom(&actions, 3)
        } else {
            for descriptor in openDescriptors() where descriptor > 2 && descriptor != logDescriptor {
                posix_spawn_file_actions_addclose(&actions, descriptor)
            }
        }
        #else
        flags |= Int32(POSIX_SPAWN_SETSID) | Int32(POSIX_SPAWN_CLOEXEC_DEFAULT)
        #endif
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else {
            if status == ENOENT { throw ProcessError.notFound(program: executable, searched: "") }
            throw ProcessError.couldNotStart(program: executable, reason: String(cString: strerror(status)))
        }
        return pid
    }

    /// Whether `pid` is a live process (not a zombie). Reaps it when it is Doer's own
    /// child that has exited, so a server killed under Doer does not linger as a zombie.
    public static func isRunning(_ pid: pid_t) -> Bool {
        guard pid > 0 else { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { return false }
        if kill(pid, 0) != 0 && errno != EPERM { return false }
        #if os(Linux)
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let nameEnd = stat.lastIndex(of: ")"), stat.index(nameEnd, offsetBy: 2) < stat.endIndex {
            let state = stat[stat.index(nameEnd, offsetBy: 2)]
            if state == "Z" || state == "X" {
                // It died after the waitpid above. A multithreaded process shows "Z" as soon
                // as its main thread is gone, but can be reaped only once every thread is:
                // wait briefly for that when it is Doer's child (else waitpid fails at once).
                for _ in 0..<500 where waitpid(pid, &status, WNOHANG) == 0 { usleep(1000) }
                return false
            }
        }
        #endif
        return true
    }

    /// Whether `pid` runs `executable` (a recycled pid belongs to some other program).
    public static func runs(_ pid: pid_t, executable: String) -> Bool {
        #if os(Linux)
        guard let commandLine = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { return false }
        let first = commandLine.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false).first ?? Data()
        return String(decoding: first, as: UTF8.self) == executable
        #else
        return isRunning(pid)
        #endif
    }

    /// SIGTERM, then SIGKILL when it is still there after `graceSeconds`. Returns once it
    /// is gone (or after a short wait past SIGKILL).
    public static func terminate(_ pid: pid_t, graceSeconds: Double) async {
        guard isRunning(pid) else { return }
        kill(pid, SIGTERM)
        if await waitForExit(pid, seconds: graceSeconds) { return }
        kill(pid, SIGKILL)
        _ = await waitForExit(pid, seconds: 5)
    }

    private static func waitForExit(_ pid: pid_t, seconds: Double) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            if !isRunning(pid) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return !isRunning(pid)
    }

    #if os(Linux)
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc 2.34+ `posix_spawn_file_actions_addclosefrom_np`, looked up at run time.
    private static var closeFromAction: CloseFrom? {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: CloseFrom.self)
    }

    private static func openDescriptors() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
    }
    #endif
}
