import CDoerSandbox
import DoerCore
import Foundation
import Synchronization

/// How to start a process: what to exec, as whom, with which pipes.
struct SpawnSpec: Sendable {
    var executable: String
    /// Arguments after argv[0], which is the executable's path.
    var arguments: [String]
    var environment: [String] = []
    /// Host uid/gid to switch to before exec (root only).
    var identity: (uid: UInt32, gid: UInt32)?
    /// Give the child a control socket as descriptor 3 (the doer-sandbox-init protocol).
    var controlChannel: Bool
    /// The cgroup files the child writes "0" to before exec, to join (`RunCgroup.procsFiles`).
    var cgroupProcsFiles: [String] = []
}

/// A started process and the host ends of its pipes. Descriptors are owned here and
/// closed exactly once by `closeAll()`.
// Unchecked: `stdinFD` is set to -1 by the one thread that supervises the run, without a lock.
final class SpawnedProcess: @unchecked Sendable {
    let pid: pid_t
    let pidfd: Int32
    var stdinFD: Int32
    let stdoutFD: Int32
    let stderrFD: Int32
    let controlFD: Int32
    let spawnedAt: ContinuousClock.Instant
    /// Descriptors closed, process reaped: a kill or a close must not follow either.
    private let ended = Mutex((closed: false, reaped: false))

    private init(pid: pid_t, pidfd: Int32, stdinFD: Int32, stdoutFD: Int32, stderrFD: Int32, controlFD: Int32) {
        self.pid = pid
        self.pidfd = pidfd
        self.stdinFD = stdinFD
        self.stdoutFD = stdoutFD
        self.stderrFD = stderrFD
        self.controlFD = controlFD
        self.spawnedAt = .now
    }

    static func spawn(_ spec: SpawnSpec) throws(DoerError) -> SpawnedProcess {
        Signals.ignoreSIGPIPE
        var opened: [Int32] = []
        func closeOpened() { opened.forEach { close($0) } }
        func makePipe() throws(DoerError) -> (read: Int32, write: Int32) {
            var fds: [Int32] = [-1, -1]
            guard doer_pipe(&fds, 0) == 0 else {
                closeOpened()
                throw .sandboxFailure("cannot create a pipe: \(String(cString: strerror(errno)))")
            }
            opened += fds
            return (fds[0], fds[1])
        }
        let stdinPipe = try makePipe()
        let stdoutPipe = try makePipe()
        let stderrPipe = try makePipe()
        var control: [Int32] = [-1, -1]
        if spec.controlChannel {
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &control) == 0 else {
                closeOpened()
                throw .sandboxFailure("cannot create a control socket: \(String(cString: strerror(errno)))")
            }
            opened += control
        }
        var cgroupFDs: [Int32] = []
        for file in spec.cgroupProcsFiles {
            let fd = open(file, O_WRONLY | O_CLOEXEC)
            if fd >= 0 { cgroupFDs.append(fd) }
        }
        defer { cgroupFDs.forEach { close($0) } }

        var fdMap: [Int32] = [stdinPipe.read, stdoutPipe.write, stderrPipe.write]
        if spec.controlChannel { fdMap.append(control[1]) }
        let argv = [spec.executable] + spec.arguments
        // From the long-lived spawner thread: see SpawnerThread for why.
        let (status, pid) = SpawnerThread.shared.perform { () -> (Int32, pid_t) in
            var pid: pid_t = 0
            let status = withCStrings(argv) { argvPointers in
                withCStrings(spec.environment) { envPointers in
                    fdMap.withUnsafeBufferPointer { fdBuffer in
                        cgroupFDs.withUnsafeBufferPointer { cgroupBuffer in
                            var options = doer_spawn_options(
                                fd_map: fdBuffer.baseAddress, fd_count: Int32(fdBuffer.count),
                                uid: spec.identity.map { Int32(bitPattern: $0.uid) } ?? -1,
                                gid: spec.identity.map { Int32(bitPattern: $0.gid) } ?? -1,
                                new_session: 1,
                                cgroup_fds: cgroupBuffer.baseAddress, cgroup_count: Int32(cgroupBuffer.count))
                            return doer_spawn(spec.executable, argvPointers, envPointers, &options, &pid)
                        }
                    }
                }
            }
            return (status, pid)
        }
        // The child's ends now live in the child; ours close here.
        close(stdinPipe.read); close(stdoutPipe.write); close(stderrPipe.write)
        if spec.controlChannel { close(control[1]) }
        guard status == 0 else {
            close(stdinPipe.write); close(stdoutPipe.read); close(stderrPipe.read)
            if spec.controlChannel { close(control[0]) }
            throw .sandboxFailure("cannot start \(spec.executable): \(String(cString: strerror(status)))")
        }
        let pidfd = doer_pidfd_open(pid)
        return SpawnedProcess(pid: pid, pidfd: pidfd, stdinFD: stdinPipe.write, stdoutFD: stdoutPipe.read,
                              stderrFD: stderrPipe.read, controlFD: spec.controlChannel ? control[0] : -1)
    }

    /// Kills the process and, because it leads its own session, everything in its group.
    /// Never after it was reaped: its pid may belong to someone else by then.
    func kill() {
        ended.withLock { ended in
            guard !ended.reaped else { return }
            _ = Glibc.kill(-pid, SIGKILL)
            _ = Glibc.kill(pid, SIGKILL)
        }
    }

    /// Waits for the process to end and returns its wait status and peak memory.
    func reap() -> (status: Int32, maxRSSBytes: Int64) {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        ended.withLock { $0.reaped = true }
        return (status, Int64(usage.ru_maxrss) * 1024)
    }

    func closeAll() {
        let descriptors = [pidfd, stdinFD, stdoutFD, stderrFD, controlFD]
        ended.withLock { ended in
            guard !ended.closed else { return }
            ended.closed = true
            for fd in descriptors where fd >= 0 { close(fd) }
        }
    }

    deinit { closeAll() }
}

enum Signals {
    /// Writing to a pipe whose reader died must be an error, not the death of Doer.
    static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()
}

/// Calls `body` with a NULL-terminated C array of the strings.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
