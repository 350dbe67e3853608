/// Limits applied to one sandboxed run. `nil` means "no limit of that kind".
public struct ResourceLimits: Sendable, Hashable, Codable {
    /// Wall-clock time after which the whole process tree is killed.
    public var wallClockSeconds: Double
    /// CPU time (RLIMIT_CPU), in whole seconds.
    public var cpuSeconds: Int?
    /// Memory of the whole tree (cgroup memory limit where available).
    public var memoryBytes: Int64?
    /// Processes and threads (cgroup pids limit and RLIMIT_NPROC).
    public var processes: Int?
    /// Open file descriptors per process (RLIMIT_NOFILE).
    public var openFiles: Int?
    /// Largest file a process may write (RLIMIT_FSIZE).
    public var fileSizeBytes: Int64?
    /// What the run may add on the host's disk: its workspace view (beyond the copied
    /// workspace) and any writable cache bound into it. A run that reaches it is stopped.
    public var diskBytes: Int64?
    /// Size of the private /tmp.
    public var tmpSizeBytes: Int64
    /// Bytes kept of stdout and of stderr each; the head and the tail are kept.
    public var outputBytes: Int

    public init(
        wallClockSeconds: Double = 30,
        cpuSeconds: Int? = 60,
        memoryBytes: Int64? = 1 << 30,
        processes: Int? = 256,
        openFiles: Int? = 1024,
        fileSizeBytes: Int64? = 256 << 20,
        diskBytes: Int64? = 1 << 30,
        tmpSizeBytes: Int64 = 256 << 20,
        outputBytes: Int = 1 << 20
    ) {
        self.wallClockSeconds = wallClockSeconds
        self.cpuSeconds = cpuSeconds
        self.memoryBytes = memoryBytes
        self.processes = processes
        self.openFiles = openFiles
        self.fileSizeBytes = fileSizeBytes
        self.diskBytes = diskBytes
        self.tmpSizeBytes = tmpSizeBytes
        self.outputBytes = outputBytes
    }

    /// Throws `DoerError.invalidLimit` naming the first limit that makes no sense.
    public func validate() throws(DoerError) {
        if !(wallClockSeconds > 0) || !wallClockSeconds.isFinite {
            throw .invalidLimit("timeout must be a positive number of seconds, got \(wallClockSeconds)")
        }
        if let cpuSeconds, cpuSeconds <= 0 { throw .invalidLimit("CPU time must be positive, got \(cpuSeconds)") }
        if let memoryBytes, memoryBytes < 4 << 20 {
            throw .invalidLimit("memory must be at least 4m, got \(ByteSize.format(memoryBytes))")
        }
        if let processes, processes <= 0 { throw .invalidLimit("process limit must be positive, got \(processes)") }
        if let openFiles, openFiles < 16 { throw .invalidLimit("open-file limit must be at least 16, got \(openFiles)") }
        if let fileSizeBytes, fileSizeBytes <= 0 { throw .invalidLimit("file-size limit must be positive") }
        if let diskBytes, diskBytes < 1 << 20 {
            throw .invalidLimit("disk limit must be at least 1m, got \(ByteSize.format(diskBytes))")
        }
        if tmpSizeBytes < 1 << 20 { throw .invalidLimit("/tmp size must be at least 1m") }
        if outputBytes < 64 { throw .invalidLimit("output cap must be at least 64 bytes") }
    }

    /// RLIMIT_FSIZE where the disk limit is enforced by measuring host folders rather than
    /// by a filesystem of its own: no single file may be larger than the disk limit either.
    public var effectiveFileSizeBytes: Int64? {
        switch (fileSizeBytes, diskBytes) {
        case let (file?, disk?): return min(file, disk)
        case let (file, disk): return file ?? disk
        }
    }
}
