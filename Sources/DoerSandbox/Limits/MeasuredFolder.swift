import Foundation

/// A folder on the host's disk that a run writes, and the disk limit must measure: one that
/// is nested past the scan's depth, or holds folders Doer cannot read, hides whatever a run
/// writes below that point. A language's cache is Doer's own and outlives its runs, so one
/// run could leave it unmeasurable (`mkdir` 140 levels down, or `chmod 0300` a folder) and
/// the next fill the disk beneath it; such a cache is emptied before a run that needs it
/// measured, as a cold cache.
public enum MeasuredFolder {
    /// Empties `path` (keeping the folder) when the disk limit could not measure all of it;
    /// returns whether it did.
    @discardableResult
    public static func emptyIfUnmeasurable(_ path: String) -> Bool {
        guard problem(DiskUsageScan.measure(path)) != nil else { return false }
        TreeRemoval.empty(path)
        return true
    }

    /// What keeps a scan from measuring everything it covers, as a phrase; nil when nothing does.
    static func problem(_ scan: DiskUsageScan) -> String? {
        if scan.tooDeep { return "holds folders nested deeper than \(DiskUsageScan.maximumDepth) levels" }
        if scan.unreadable > 0 { return "holds \(scan.unreadable) file(s) or folder(s) Doer cannot read" }
        return nil
    }
}
