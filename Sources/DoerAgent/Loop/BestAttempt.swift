import DoerCore
import DoerSandbox

/// The attempt of a candidate that passed the most tests so far. A small model's repair
/// often fits one example and breaks two others; when the candidate gives up, it hands in
/// its best attempt rather than its last. Ties keep the earlier attempt: a repair must
/// pass strictly more to replace it.
struct BestAttempt: Sendable {
    private(set) var iteration = 0
    private(set) var passed = -1
    private(set) var failed = 0
    /// The files the candidate had written or edited (path -> content), as they were after
    /// that attempt. Only those can differ between attempts, so a large workspace is not
    /// read again on every test run.
    private(set) var files: [String: String] = [:]

    /// Records `report` for the files now in `copy`; returns whether it is the new best.
    @discardableResult
    mutating func consider(_ report: TestReport, iteration: Int, copy: WorkspaceCopy, touched: Set<String>) -> Bool {
        guard report.passed > passed else { return false }
        self.iteration = iteration
        passed = report.passed
        failed = report.failed
        files = Self.snapshot(copy, paths: touched)
        return true
    }

    /// Writes the best attempt's files back over a later one's; returns the writes made, in
    /// path order, so they are recorded (and replayed on resume) like any other write.
    /// Files a later attempt added are left in place: the action vocabulary has no delete,
    /// and an extra file cannot make the kept attempt's tests fail.
    func restore(into copy: WorkspaceCopy) throws(DoerError) -> [Action] {
        guard passed >= 0 else { return [] }
        return try copy.writeBack(files)
    }

    private static func snapshot(_ copy: WorkspaceCopy, paths: Set<String>) -> [String: String] {
        var files: [String: String] = [:]
        for path in paths {
            if let content = copy.read(path) { files[path] = content }
        }
        return files
    }
}

extension WorkspaceCopy {
    /// Writes `files` (path -> content) over the copy where they differ; returns the writes
    /// made, in path order, so they are recorded (and replayed on resume) like any other write.
    func writeBack(_ files: [String: String]) throws(DoerError) -> [Action] {
        var writes: [Action] = []
        for (path, content) in files.sorted(by: { $0.key < $1.key }) where read(path) != content {
            try write(path, content)
            writes.append(.writeFile(path: path, content: content))
        }
        return writes
    }
}
