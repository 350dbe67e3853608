import Foundation
import Synchronization

/// The view tmpfs mounts (`ViewTmpfs`) of this process, and of Doer processes that are gone.
///
/// A mount outlives the process that made it, and holds its files in memory until someone
/// unmounts it. So the mounts a process still has when it exits are detached then (a warm
/// pool that was never drained, a test), and those of a Doer process that was killed are
/// found by the next one: each mount's source names the process that made it.
enum ViewMounts {
    /// Marks Doer's view mounts in /proc/self/mountinfo.
    static let sourcePrefix = "doer-view-"

    /// "doer-view-<pid>-<start time>": the pid alone could be reused after a crash.
    static let sourceName: String = sourcePrefix + "\(getpid())-\(processStartTime(getpid()) ?? "0")"

    /// Lazily (whatever still holds it lets go later), and never through a link.
    static let detach = Int32(MNT_DETACH) | Int32(UMOUNT_NOFOLLOW)

    private struct State {
        var live: Set<String> = []
        var exitHandlerInstalled = false
        var exiting = false
        var sweptRoots: Set<String> = []
    }

    private static let state = Mutex(State())

    static func register(_ path: String) {
        state.withLock { state in
            // A warm pool's refill can mount while the process exits.
            if state.exiting {
                _ = umount2(path, detach)
                return
            }
            state.live.insert(path)
            if !state.exitHandlerInstalled {
                state.exitHandlerInstalled = true
                atexit { ViewMounts.detachAllAtExit() }
            }
        }
    }

    static func unregister(_ path: String) {
        _ = state.withLock { $0.live.remove(path) }
    }

    private static func detachAllAtExit() {
        let paths = state.withLock { state in
            state.exiting = true
            defer { state.live = [] }
            return state.live
        }
        for path in paths {
            _ = umount2(path, detach)
            _ = rmdir(path)
        }
    }

    /// Unmounts the view mounts of Doer processes that are gone, and removes their (empty)
    /// folders. Once per process for each staging root it is asked about: cheap, one read
    /// of the mount table.
    static func sweepAbandoned(onFirstUseOf stagingRoot: String) {
        let first = state.withLock { $0.sweptRoots.insert(stagingRoot).inserted }
        guard first, geteuid() == 0 else { return }
        for line in mountTable().split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let fields = halves[0].split(separator: " "), tail = halves[1].split(separator: " ")
            guard fields.count >= 5, tail.count >= 2, tail[0] == "tmpfs", tail[1].hasPrefix(sourcePrefix) else { continue }
            let owner = tail[1].dropFirst(sourcePrefix.count).split(separator: "-")
            guard owner.count == 2, let pid = Int32(owner[0]), processStartTime(pid) != String(owner[1]) else { continue }
            let mountPoint = String(fields[4])
            _ = umount2(mountPoint, detach)
            if mountPoint.split(separator: "/").last?.hasPrefix("ws-") == true { _ = rmdir(mountPoint) }
        }
    }

    /// /proc/self/mountinfo, read to its end: procfs files report no size, and a
    /// whole-file read that trusts the size stops after the first page.
    static func mountTable() -> String {
        let fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Field 22 of /proc/PID/stat (clock ticks after boot), nil if there is no such process.
    private static func processStartTime(_ pid: pid_t) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, so start time (22) is index 19.
        return fields.count > 19 ? String(fields[19]) : nil
    }
}
