import DoerCore
import Foundation
import Synchronization

/// Memory and process-count limits through cgroups: v2 where the unified hierarchy has
/// the controllers, v1's memory and pids hierarchies otherwise. Each run gets its own
/// child group below Doer's own, joined by the sandbox before it execs.
struct CgroupLimiter: Sendable {
    enum Version: Sendable { case v1(memory: String?, pids: String?), v2(String) }
    let version: Version

    /// nil when this process cannot create cgroups (not root, read-only cgroupfs...).
    static let detected: CgroupLimiter? = detect()

    private static func detect() -> CgroupLimiter? {
        guard let lines = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return nil }
        var v1: [String: String] = [:]
        var v2Path: String?
        for line in lines.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let path = String(parts[2])
            if parts[0] == "0" && parts[1].isEmpty {
                v2Path = path
            } else {
                for controller in parts[1].split(separator: ",") { v1[String(controller)] = path }
            }
        }
        if let v2Path {
            let dir = "/sys/fs/cgroup" + (v2Path == "/" ? "" : v2Path)
            if let controllers = try? String(contentsOfFile: dir + "/cgroup.subtree_control", encoding: .utf8),
               controllers.contains("memory"), access(dir, W_OK) == 0 {
                return CgroupLimiter(version: .v2(dir))
            }
        }
        func v1Dir(_ controller: String) -> String? {
            guard let path = v1[controller] else { return nil }
            let dir = "/sys/fs/cgroup/\(controller)" + (path == "/" ? "" : path)
            return access(dir, W_OK) == 0 ? dir : nil
        }
        let memory = v1Dir("memory"), pids = v1Dir("pids")
        if memory == nil && pids == nil { return nil }
        return CgroupLimiter(version: .v1(memory: memory, pids: pids))
    }

    /// The folders under which this process makes its runs' groups.
    var parents: [String] {
        switch version {
        case .v2(let parent): [parent]
        case .v1(let memory, let pids): [memory, pids].compactMap { $0 }
        }
    }

    /// Creates the groups for one run and writes its limits.
    func makeGroup(limits: ResourceLimits) -> RunCgroup? {
        Self.sweptOnce.withLock { swept in
            if !swept { sweepAbandoned() }
            swept = true
        }
        let name = Self.groupName()
        switch version {
        case .v2(let parent):
            let dir = parent + "/" + name
            guard mkdir(dir, 0o755) == 0 else { return nil }
            if let memory = limits.memoryBytes {
                write(dir + "/memory.max", "\(memory)")
                write(dir + "/memory.swap.max", "0")
            }
            if let processes = limits.processes { write(dir + "/pids.max", "\(processes)") }
            return RunCgroup(directories: [dir], memoryDirectory: dir, isV2: true)
        case .v1(let memoryParent, let pidsParent):
            var dirs: [String] = []
            var memoryDir: String?
            if let memoryParent, limits.memoryBytes != nil {
                let dir = memoryParent + "/" + name
                if mkdir(dir, 0o755) == 0 {
                    write(dir + "/memory.limit_in_bytes", "\(limits.memoryBytes!)")
                    write(dir + "/memory.memsw.limit_in_bytes", "\(limits.memoryBytes!)")
                    write(dir + "/memory.swappiness", "0")
                    dirs.append(dir)
                    memoryDir = dir
                }
            }
            if let pidsParent, let processes = limits.processes {
                let dir = pidsParent + "/" + name
                if mkdir(dir, 0o755) == 0 {
                    write(dir + "/pids.max", "\(processes)")
                    dirs.append(dir)
                }
            }
            return dirs.isEmpty ? nil : RunCgroup(directories: dirs, memoryDirectory: memoryDir, isV2: false)
        }
    }

    private static let sweptOnce = Mutex(false)

    /// A run's groups outlive it when Doer was killed (SIGKILL skips every clean-up) or the
    /// kernel took longer than `RunCgroup.remove` waits to empty them. Once per process, the
    /// first time it makes a group, Doer removes the `doer-*` groups beside it that hold no
    /// process and are older than a minute: a group is made just before its sandbox joins
    /// it, and one in use holds processes (rmdir refuses it anyway).
    func sweepAbandoned(olderThan seconds: Int = 60) {
        let cutoff = time(nil) - seconds
        for parent in parents {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where name.hasPrefix("doer-") {
                let dir = parent + "/" + name
                var info = stat()
                guard lstat(dir, &info) == 0, info.st_mode & S_IFMT == S_IFDIR,
                      (Self.creationTime(ofGroup: name) ?? info.st_mtim.tv_sec) < cutoff, Self.holdsNoProcess(dir) else { continue }
                _ = rmdir(dir)
            }
        }
    }

    /// `doer-<seconds since 1970, hex>-<random>`: a group's age is in its name, since cgroup
    /// folders' times move with their files (a memory group's whenever its counters change).
    static func groupName(createdAt now: Int = time(nil)) -> String {
        "doer-\(String(now, radix: 16))-\(UUID().uuidString.prefix(8).lowercased())"
    }

    static func creationTime(ofGroup name: String) -> Int? {
        let parts = name.split(separator: "-")
        guard parts.count == 3, parts[0] == "doer", parts[2].count == 8 else { return nil }
        return Int(parts[1], radix: 16)
    }

    /// Whether the group's `cgroup.procs` lists nobody (read to its end: cgroup files say
    /// their size is 0, so a reader that trusts the size sees nothing in any of them).
    static func holdsNoProcess(_ dir: String) -> Bool {
        let fd = open(dir + "/cgroup.procs", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var byte: UInt8 = 0
        return read(fd, &byte, 1) == 0
    }

    private func write(_ path: String, _ value: String) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = value.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
    }
}

/// One run's cgroups: joined by the spawned process, read and removed after the run.
struct RunCgroup: Sendable {
    let directories: [String]
    let memoryDirectory: String?
    let isV2: Bool

    /// The files the spawned process writes "0" (itself) to, to join the run's cgroups. On
    /// cgroup v1 that is `tasks`, which moves one thread: the child between vfork and exec
    /// has only the one, and everything it starts afterwards is born inside. Writing
    /// `cgroup.procs` instead moves a thread group under the kernel's global threadgroup
    /// lock, whose write side waits for an RCU grace period: about 10 ms per sandbox start
    /// here, whenever no other move happened just before (every CLI run, every agent step).
    var procsFiles: [String] { directories.map { $0 + (isV2 ? "/cgroup.procs" : "/tasks") } }

    var peakMemoryBytes: Int64? {
        guard let memoryDirectory else { return nil }
        return readInt(memoryDirectory + (isV2 ? "/memory.peak" : "/memory.max_usage_in_bytes"))
    }

    /// Whether the kernel's OOM killer acted inside this group.
    var oomKilled: Bool {
        guard let memoryDirectory else { return false }
        let file = memoryDirectory + (isV2 ? "/memory.events" : "/memory.oom_control")
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return false }
        for line in text.split(separator: "\n") where line.hasPrefix("oom_kill ") {
            return (Int(line.dropFirst("oom_kill ".count)) ?? 0) > 0
        }
        return false
    }

    /// Readies the group for the next run of a sandbox that serves several: its memory peak
    /// starts again from what is in use now. False when that cannot be done (a kernel whose
    /// `memory.peak` cannot be reset) or the OOM killer acted: the sandbox is not reused,
    /// since its next run's figures would be an earlier run's.
    func resetForNextRun() -> Bool {
        guard let memoryDirectory else { return true }
        guard !oomKilled else { return false }
        let fd = open(memoryDirectory + (isV2 ? "/memory.peak" : "/memory.max_usage_in_bytes"), O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, "0", 1) == 1
    }

    /// Removes the groups once the kernel has emptied them. On v2, cgroup.kill ends any
    /// straggler atomically; v1 has no such file, and killing pids read from cgroup.procs
    /// could hit a recycled pid, so there the sandbox's own teardown has to suffice.
    func remove() {
        for dir in directories {
            if isV2 {
                let fd = open(dir + "/cgroup.kill", O_WRONLY | O_CLOEXEC)
                if fd >= 0 {
                    _ = write(fd, "1", 1)
                    close(fd)
                }
            }
            // The last processes may take a while to go once the sandbox's pid 1 is gone
            // (longer on a loaded machine): 2 ms steps first, then 50 ms ones, 2 s in all.
            for attempt in 0..<90 {
                if rmdir(dir) == 0 || errno == ENOENT { break }
                if attempt < 89 { usleep(attempt < 50 ? 2_000 : 50_000) }
            }
        }
    }

    private func readInt(_ path: String) -> Int64? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Int64(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
