import DoerCore
import Foundation

/// Tells the supervisor when a run has gone over its disk limit, so it stops the run as a
/// timeout would. What the run adds is counted in two places:
///
/// - its workspace view on its own tmpfs (`ViewTmpfs`, root): the kernel already refuses
///   writes past the limit; the watch only notices that the view is full, with one
///   `fstatvfs`, every `mountInterval`.
/// - folders on the host's disk the run writes directly — a view Doer could not mount
///   (not root), the real workspace in full-access mode, the writable language caches of
///   build steps: measured by a scan (`DiskUsageScan`) against what they held at the start.
///   Here the host can hold more than the limit by what the run writes between two scans:
///   checks come at most `scanInterval` apart, sooner as usage nears the limit
///   (`nextInterval`).
///
/// Every sum is "added since the start", so deleting what was already there makes room,
/// as it would on a disk with a quota.
final class DiskUsageWatch: @unchecked Sendable {
    let limit: Int64
    private let view: ViewTmpfs?
    private let scannedPaths: [String]
    /// The sandbox's first process: files its tree deleted but holds open on the scanned
    /// folders' filesystems count too (`HeldDeletedFiles`).
    private let process: pid_t?
    private let scannedDevices: Set<UInt>
    private var scanBaseline: Int64 = 0
    private var scanBaselineInodes: Int64 = 0
    /// Why a scanned folder cannot be measured before the run starts — nested past the
    /// scan's depth, or holding folders Doer cannot read — when one cannot: a run could
    /// write without bound below them, unseen, so the run must not start
    /// (`MeasuredFolder` empties Doer's own caches before it comes to that).
    private(set) var unmeasurable: String?
    /// Bytes the scanned folders had added at the last scan that said anything.
    private var lastScannedAdded: Int64 = 0
    private var previous: (added: Int64, at: ContinuousClock.Instant)?
    private var lastCheck: ContinuousClock.Instant = .now
    private var lastScanCost: Duration = .zero
    /// Bytes added at the last check.
    private(set) var addedBytes: Int64 = 0
    /// Why the run is over its limit, once it is.
    private(set) var exceededReason: String?

    /// A full view is seen within this long (a cheap `fstatvfs`).
    static let mountInterval: Duration = .milliseconds(25)
    /// The longest gap between two scans of host folders.
    static let scanInterval: Duration = .milliseconds(50)

    /// nil when there is no limit, or nothing the run could write to watch.
    init?(limit: Int64?, view: ViewTmpfs?, scannedPaths: [String], process: pid_t? = nil) {
        guard let limit, view != nil || !scannedPaths.isEmpty else { return nil }
        self.limit = limit
        self.view = view
        self.scannedPaths = scannedPaths
        self.process = process
        scannedDevices = Set(scannedPaths.compactMap { path in
            var info = stat()
            return lstat(path, &info) == 0 ? UInt(info.st_dev) : nil
        })
        if !scannedPaths.isEmpty {
            let start = scan { path, one in
                if unmeasurable == nil, let problem = MeasuredFolder.problem(one) { unmeasurable = "\(path) \(problem)" }
            }
            scanBaseline = start.bytes
            scanBaselineInodes = start.inodes
        }
    }

    /// Whether the run is at or over its limit now. Once true, stays true.
    func check() -> Bool {
        if exceededReason != nil { return true }
        var added: Int64 = 0
        if let view, let usage = view.usage() {
            if usage.isFull {
                exceededReason = usage.freeInodes <= 0 && usage.freeBytes > 0
                    ? "its workspace ran out of files (one per \(ByteSize.format(ViewTmpfs.bytesPerInode)) of the limit)"
                    : "its workspace is full"
            }
            added += view.addedBytes()
        }
        if !scannedPaths.isEmpty {
            // The scan's cost is the CPU it took, not the time it spanned: on a busy machine the
            // thread waits for a core mid-scan, and counting that wait would space the next
            // scans out just when the run's writes are least watched.
            let started = Self.threadCPUTime()
            let measured = scan()
            lastScanCost = Self.threadCPUTime() - started
            if measured.tooDeep {
                exceededReason = exceededReason ?? "it nested folders deeper than \(DiskUsageScan.maximumDepth) levels, which cannot be measured"
            }
            if measured.unreadable > 0 {
                exceededReason = exceededReason ?? "it took the read permission off files or folders on the host's disk, "
                    + "so what they hold cannot be measured"
            }
            // A scan that ran short says nothing: the last one that did stands until the next.
            if !measured.incomplete { lastScannedAdded = max(0, measured.bytes - scanBaseline) }
            added += lastScannedAdded
            if let process { added += HeldDeletedFiles.bytes(heldByTreeOf: process, onDevices: scannedDevices) }
            // Files take inodes of the host's filesystem, not only bytes: an empty file takes
            // no block, and millions of them would use up the inodes of the host's disk. As
            // on a view's tmpfs, a run gets one per 4 KiB of its limit.
            let files = measured.inodes - scanBaselineInodes
            if files > Self.inodeAllowance(limit) {
                exceededReason = exceededReason ?? "it made \(files) files and folders on the host's disk, "
                    + "more than one per \(ByteSize.format(ViewTmpfs.bytesPerInode)) of the limit"
            }
        }
        if added > limit && exceededReason == nil { exceededReason = "it wrote \(added >> 20) MiB" }
        previous = (addedBytes, lastCheck)
        addedBytes = added
        lastCheck = .now
        return exceededReason != nil
    }

    /// Files and folders a run may add in scanned folders: the same count a view's tmpfs gets.
    static func inodeAllowance(_ limit: Int64) -> Int64 { max(256, limit / ViewTmpfs.bytesPerInode) }

    /// How long until the next check. A mount alone is cheap to look at. Scans come sooner
    /// the less room is left: never later than a writer at `fastestWriter` would need to
    /// fill what is left, nor than the run, at its own pace, would need to fill half of it;
    /// never sooner than four times a scan's own CPU time (at most a fifth of a core).
    var nextInterval: Duration {
        guard !scannedPaths.isEmpty else { return Self.mountInterval }
        let remaining = Double(max(0, limit - addedBytes))
        var interval = min(Self.scanInterval, .seconds(remaining / Self.fastestWriter))
        if let previous {
            let gained = addedBytes - previous.added
            if gained > 0 { interval = min(interval, (lastCheck - previous.at) * (remaining / Double(gained) / 2)) }
        }
        if view != nil { interval = min(interval, Self.mountInterval) }
        return max(interval, lastScanCost * 4, Self.shortestScanInterval)
    }

    /// Bytes per second a run may be assumed to write to the host's page cache at most.
    static let fastestWriter: Double = 2 * Double(1 << 30)
    static let shortestScanInterval: Duration = .milliseconds(1)

    /// CPU time this thread has used (user and system, as a scan's syscalls are system time).
    static func threadCPUTime() -> Duration {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return .seconds(now.tv_sec) + .nanoseconds(now.tv_nsec)
    }

    /// Every scanned folder measured, summed; `each` sees each folder's own scan.
    private func scan(_ each: (String, DiskUsageScan) -> Void = { _, _ in }) -> DiskUsageScan {
        var total = DiskUsageScan()
        for path in scannedPaths {
            let one = DiskUsageScan.measure(path)
            each(path, one)
            total.bytes += one.bytes
            total.inodes += one.inodes
            total.tooDeep = total.tooDeep || one.tooDeep
            total.unreadable += one.unreadable
            total.incomplete = total.incomplete || one.incomplete
        }
        return total
    }
}
