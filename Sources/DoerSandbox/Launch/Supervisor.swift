import CDoerSandbox
import DoerCore
import Foundation
import Synchronization

/// What watching a process to its end produced.
struct SupervisedRun: Sendable {
    var stdout: CapturedOutput
    var stderr: CapturedOutput
    /// The wait status of the process we spawned (bwrap, runsc, or the command itself).
    var waitStatus: Int32
    var initStatus: InitStatus?
    /// The host's own deadline fired and killed the tree.
    var killedByHost: Bool
    /// The disk watch found the run over its disk limit and killed the tree.
    var diskLimitExceeded: Bool = false
    var cancelled: Bool
    var maxRSSBytes: Int64
    /// A reusable run's sandbox reported a clean reset and still waits: it was neither
    /// killed nor reaped, and its descriptors are open for the next run.
    var sandboxKept: Bool = false
    var startedAt: ContinuousClock.Instant
    var endedAt: ContinuousClock.Instant
}

/// Feeds stdin, collects capped stdout/stderr and the init status, enforces the host-side
/// deadline and cancellation, and reaps the process. One blocking poll loop on its own
/// thread per run, so a slow run never holds a Swift concurrency thread.
enum Supervisor {
    /// The loop's own thread is small: it polls, and its deepest call is a disk scan,
    /// whose depth `DiskUsageScan.maximumDepth` caps.
    static let threadStackSize = 256 << 10

    static func supervise(
        _ process: SpawnedProcess, request: InitRequest?, stdin: Data,
        hostDeadline: Duration, outputCap: Int, observer: OutputObserver? = nil, disk: DiskUsageWatch? = nil
    ) async -> SupervisedRun {
        let wake = WakePipe()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let thread = Thread {
                    continuation.resume(returning: loop(process, request: request, stdin: stdin,
                                                        hostDeadline: hostDeadline, outputCap: outputCap, observer: observer,
                                                        disk: disk, wake: wake))
                }
                thread.stackSize = threadStackSize
                thread.start()
            }
        } onCancel: {
            wake.signal()
        }
    }

    private static func loop(
        _ process: SpawnedProcess, request: InitRequest?, stdin: Data,
        hostDeadline: Duration, outputCap: Int, observer: OutputObserver?, disk: DiskUsageWatch?, wake: WakePipe
    ) -> SupervisedRun {
        let startedAt = ContinuousClock.now
        let deadline = startedAt + hostDeadline
        var stdoutBuffer = HeadTailBuffer(capacity: outputCap)
        var stderrBuffer = HeadTailBuffer(capacity: outputCap)
        var statusBytes = Data()
        var killedByHost = false
        var cancelled = false
        var exited = false
        var waitStatus: Int32 = 0
        var maxRSS: Int64 = 0
        var drainDeadline: ContinuousClock.Instant?
        var diskExceeded = false
        var nextDiskCheck = disk.map { startedAt + $0.nextInterval }
        var kept = false
        var resetDeadline: ContinuousClock.Instant?
        var resetKilled = false

        if let request {
            let bytes = request.encoded()
            if !writeAll(process.controlFD, bytes) { process.kill() }
        }
        var stdinOffset = 0
        var stdinOpen = process.stdinFD >= 0
        if stdinOpen && stdin.isEmpty {
            close(process.stdinFD)
            process.stdinFD = -1
            stdinOpen = false
        } else if stdinOpen {
            _ = fcntl(process.stdinFD, F_SETFL, fcntl(process.stdinFD, F_GETFL) | O_NONBLOCK)
        }
        var stdoutOpen = true, stderrOpen = true, controlOpen = process.controlFD >= 0
        var buffer = [UInt8](repeating: 0, count: 64 << 10)

        while true {
            if exited && !stdoutOpen && !stderrOpen && !controlOpen { break }
            // A reusable sandbox never closes its output: after the status, init resets the
            // sandbox (every process of the run ends) and says whether it is clean. What the
            // run's processes wrote is in the pipes by then.
            if request?.reusable == true {
                let reply = Self.reply(in: statusBytes)
                if reply.count > InitStatus.wireSize, reply[reply.startIndex + InitStatus.wireSize] == Self.resetClean,
                   !killedByHost, !cancelled, !diskExceeded {
                    if stdoutOpen { drain(process.stdoutFD, &buffer) { bytes in stdoutBuffer.append(bytes); observer?(.stdout, Data(bytes)) } }
                    if stderrOpen { drain(process.stderrFD, &buffer) { bytes in stderrBuffer.append(bytes); observer?(.stderr, Data(bytes)) } }
                    kept = true
                    break
                }
                // The run is over once its status is in: a reset that takes long is the
                // sandbox's business (bounded below), never the run going over its time.
                if resetDeadline == nil, reply.count >= InitStatus.wireSize { resetDeadline = .now + Self.resetAllowance }
            }
            let now = ContinuousClock.now
            if let drainDeadline, now >= drainDeadline { break }
            if !exited && !killedByHost && resetDeadline == nil && now >= deadline {
                killedByHost = true
                process.kill()
            }
            if !exited, let resetDeadline, now >= resetDeadline, !resetKilled {
                resetKilled = true
                process.kill()
            }
            // Over the disk limit: stopped like a timeout, between two reads of its output.
            if let disk, let due = nextDiskCheck, !exited, now >= due {
                if disk.check() {
                    diskExceeded = true
                    nextDiskCheck = nil
                    process.kill()
                } else {
                    nextDiskCheck = .now + disk.nextInterval
                }
            }
            var fds: [pollfd] = []
            func watch(_ fd: Int32, _ events: Int32) { fds.append(pollfd(fd: fd, events: Int16(events), revents: 0)) }
            if stdoutOpen { watch(process.stdoutFD, POLLIN) }
            if stderrOpen { watch(process.stderrFD, POLLIN) }
            if controlOpen { watch(process.controlFD, POLLIN) }
            if stdinOpen { watch(process.stdinFD, POLLOUT) }
            if !exited { watch(process.pidfd, POLLIN) }
            watch(wake.readFD, POLLIN)
            var limit = drainDeadline ?? (exited ? now + .seconds(2) : (killedByHost ? now + .seconds(1) : (resetDeadline ?? deadline)))
            if let nextDiskCheck, !exited { limit = min(limit, nextDiskCheck) }
            let timeoutMs = max(0, min(Int32.max, Int32(clamping: Int64((limit - now).milliseconds.rounded(.up)))))
            let ready = poll(&fds, nfds_t(fds.count), timeoutMs)
            if ready < 0 && errno != EINTR { break }
            for entry in fds where entry.revents != 0 {
                switch entry.fd {
                case process.stdoutFD:
                    stdoutOpen = readChunk(entry.fd, &buffer) { bytes in
                        stdoutBuffer.append(bytes)
                        observer?(.stdout, Data(bytes))
                    }
                case process.stderrFD:
                    stderrOpen = readChunk(entry.fd, &buffer) { bytes in
                        stderrBuffer.append(bytes)
                        observer?(.stderr, Data(bytes))
                    }
                case process.controlFD:
                    controlOpen = readChunk(entry.fd, &buffer) { statusBytes.append(contentsOf: $0) }
                    if statusBytes.count > 4096 { controlOpen = false }
                case process.stdinFD:
                    let written = stdin.withUnsafeBytes { raw in
                        write(entry.fd, raw.baseAddress! + stdinOffset, raw.count - stdinOffset)
                    }
                    if written > 0 { stdinOffset += written }
                    if (written < 0 && errno != EAGAIN) || stdinOffset >= stdin.count || entry.revents & Int16(POLLERR | POLLHUP) != 0 {
                        close(process.stdinFD)
                        process.stdinFD = -1
                        stdinOpen = false
                    }
                case process.pidfd:
                    (waitStatus, maxRSS) = process.reap()
                    exited = true
                    // Everything in the sandbox dies with it; pipes held by strays close
                    // at once. Bound the wait anyway for backends without a pid namespace.
                    drainDeadline = .now + .seconds(2)
                case wake.readFD:
                    if !cancelled {
                        cancelled = true
                        process.kill()
                    }
                default: break
                }
            }
            if process.pidfd < 0 && !exited {
                // No pidfd (very old kernel): check for exit without reaping, then reap.
                var info = siginfo_t()
                if waitid(P_PID, id_t(process.pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_signo == SIGCHLD {
                    (waitStatus, maxRSS) = process.reap()
                    exited = true
                    drainDeadline = .now + .seconds(2)
                }
            }
        }
        if !exited && !kept {
            process.kill()
            (waitStatus, maxRSS) = process.reap()
        }
        let endedAt = ContinuousClock.now
        if !kept { process.closeAll() }
        wake.close()
        return SupervisedRun(
            stdout: stdoutBuffer.captured, stderr: stderrBuffer.captured, waitStatus: waitStatus,
            initStatus: InitStatus(Self.reply(in: statusBytes).prefix(InitStatus.wireSize)), killedByHost: killedByHost, diskLimitExceeded: diskExceeded, cancelled: cancelled,
            maxRSSBytes: maxRSS, sandboxKept: kept, startedAt: startedAt, endedAt: endedAt)
    }

    /// What init sent about the run: a sandbox started for it says "ready" first.
    private static func reply(in bytes: Data) -> Data {
        bytes.first == UInt8(ascii: "R") ? bytes.dropFirst() : bytes
    }

    /// `DOER_INIT_RESET_CLEAN`: the byte after a reusable run's status when the reset held.
    static let resetClean = UInt8(ascii: "C")

    /// How long a reusable sandbox may take to reset after its run; past it, it is ended.
    static let resetAllowance: Duration = .seconds(10)

    /// Reads what is waiting in `fd` without blocking.
    private static func drain(_ fd: Int32, _ buffer: inout [UInt8], _ sink: (UnsafeRawBufferPointer) -> Void) {
        while true {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 0) == 1, entry.revents & Int16(POLLIN) != 0 else { return }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            buffer.withUnsafeBytes { sink(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        }
    }

    /// Reads what is there; false at end of stream.
    private static func readChunk(_ fd: Int32, _ buffer: inout [UInt8], _ sink: (UnsafeRawBufferPointer) -> Void) -> Bool {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count > 0 {
            buffer.withUnsafeBytes { sink(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            return true
        }
        return count < 0 && (errno == EINTR || errno == EAGAIN)
    }

    /// Writes all of `data`, going on after interruptions; false when a write fails.
    static func writeAll(_ fd: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }
}

/// A self-pipe that wakes the poll loop from another thread (cancellation).
final class WakePipe: Sendable {
    let readFD: Int32
    private let writeFD: Int32
    private let isClosed = Mutex(false)

    init() {
        var fds: [Int32] = [-1, -1]
        _ = doer_pipe(&fds, 1)
        readFD = fds[0]
        writeFD = fds[1]
    }

    func signal() {
        isClosed.withLock { isClosed in
            if !isClosed { _ = write(writeFD, "x", 1) }
        }
    }

    func close() {
        isClosed.withLock { isClosed in
            guard !isClosed else { return }
            isClosed = true
            _ = Glibc.close(readFD)
            _ = Glibc.close(writeFD)
        }
    }
}

