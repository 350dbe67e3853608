// Folders nested far past PATH_MAX, as a run can leave them (`mkdir d; cd d` in a loop):
// whatever reads or deletes the tree on the host afterwards — the change scan, the disk
// watch, the view's removal — must neither overflow its stack nor leave the tree behind.

import DoerCore
@testable import DoerSandbox
import Foundation
import Testing

/// Nests `depth` folders named `d` below `root`, with a file at the bottom.
private func nest(_ depth: Int, below root: URL) {
    var fd = open(root.path, O_RDONLY | O_DIRECTORY)
    for _ in 0..<depth {
        _ = mkdirat(fd, "d", 0o755)
        let next = openat(fd, "d", O_RDONLY | O_DIRECTORY)
        close(fd)
        fd = next
    }
    let file = openat(fd, "bottom.txt", O_WRONLY | O_CREAT, 0o644)
    close(file)
    close(fd)
}

/// Runs `body` on a thread with `stackSize`, the way the sandbox's supervisor runs its scans.
private func onSmallStack<T: Sendable>(_ stackSize: Int, _ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.stackSize = stackSize
        thread.start()
    }
}

@Suite("trees nested past any sane depth")
struct DeepTreeTests {
    static let hostile = 20_000

    @Test("a scan stops at its depth, says where, and does not overflow")
    func scanStops() throws {
        let ws = try ScratchWorkspace(files: ["top.txt": "t"])
        nest(Self.hostile, below: ws.url)
        let scan = FileTree.scanReport(ws.url.path)
        let deepest = "d" + String(repeating: "/d", count: FileTree.maximumDepth - 1)
        #expect(scan.unrepresentable == [FileTree.Unrepresentable(path: deepest, reason: .nestedTooDeep)])
        #expect(scan.entries[deepest]?.kind == .directory)
        #expect(scan.entries[deepest + "/d"] == nil)
        #expect(scan.entries["top.txt"]?.kind == .file)
        #expect(scan.entries.count == FileTree.maximumDepth + 1)
    }

    @Test("a scan keeps paths up to its budget, then stops and says where")
    func scanBudget() throws {
        let long = String(repeating: "n", count: 200)
        var files: [String: String] = [:]
        for index in 0..<20 { files["\(long)/\(long)/f\(index)"] = "x" }
        let ws = try ScratchWorkspace(files: files)
        let whole = FileTree.scanReport(ws.url.path)
        #expect(whole.unrepresentable.isEmpty && whole.entries.count == 22)
        let budget = whole.entries.keys.reduce(0) { $0 + $1.utf8.count } / 2
        let cut = FileTree.scanReport(ws.url.path, pathBytes: budget)
        #expect(cut.unrepresentable == [FileTree.Unrepresentable(path: long + "/" + long, reason: .tooManyNames)], "\(cut.unrepresentable)")
        #expect(cut.entries.count < whole.entries.count && cut.entries.count > 2)
        #expect(cut.entries.keys.reduce(0) { $0 + $1.utf8.count } <= budget)
    }

    @Test("a tree as deep as a scan reads is scanned whole and reported as nothing left out")
    func scanAtTheCap() throws {
        let ws = try ScratchWorkspace()
        nest(FileTree.maximumDepth - 1, below: ws.url)
        let scan = FileTree.scanReport(ws.url.path)
        #expect(scan.unrepresentable.isEmpty)
        #expect(scan.entries.keys.contains { $0.hasSuffix("/bottom.txt") })
    }

    @Test("removal takes the whole tree, non-UTF-8 names included")
    func removalTakesAll() throws {
        let ws = try ScratchWorkspace()
        let top = ws.url.appendingPathComponent("top")
        try FileManager.default.createDirectory(at: top, withIntermediateDirectories: true)
        nest(Self.hostile, below: top)
        let bad = open(top.path + "/bad-\u{00e9}", O_WRONLY | O_CREAT, 0o644)
        close(bad)
        let rawFD = open(top.path, O_RDONLY | O_DIRECTORY)
        let badName: [CChar] = [0x62, 0x2d, CChar(bitPattern: 0xff), 0]
        close(openat(rawFD, badName, O_WRONLY | O_CREAT, 0o644))
        _ = mkdirat(rawFD, "empty", 0o755)
        close(rawFD)
        let parent = open(ws.url.path, O_RDONLY | O_DIRECTORY)
        TreeRemoval.remove("top", in: parent)
        close(parent)
        #expect(!ws.exists("top"), "the tree is still on disk")
    }

    @Test("a folder that cannot be emptied stops only itself: the rest goes, and the removal ends")
    func removalEndsOnWhatStays() throws {
        let ws = try ScratchWorkspace()
        let top = ws.url.appendingPathComponent("top")
        try FileManager.default.createDirectory(at: top.appendingPathComponent("keep/inner"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: top.appendingPathComponent("keep/inner/file"))
        try Data("x".utf8).write(to: top.appendingPathComponent("other"))
        // A bind mount cannot be removed: a stand-in for anything rmdir refuses.
        guard geteuid() == 0 else { return }
        let mounted = top.appendingPathComponent("keep/inner").path
        guard mount(mounted, mounted, nil, UInt(MS_BIND), nil) == 0 else { return }
        defer { umount2(mounted, Int32(MNT_DETACH)) }
        let parent = open(ws.url.path, O_RDONLY | O_DIRECTORY)
        TreeRemoval.remove("top", in: parent)
        close(parent)
        #expect(!ws.exists("top/other"))
        #expect(ws.exists("top/keep/inner"), "the mount point stays")
    }

    @Test("the disk watch's scan stops at its depth on the supervisor's small stack")
    func diskScanOnSupervisorStack() async throws {
        let ws = try ScratchWorkspace()
        nest(Self.hostile, below: ws.url)
        let path = ws.url.path
        let scan = await onSmallStack(Supervisor.threadStackSize) { DiskUsageScan.measure(path) }
        #expect(scan.tooDeep)
        #expect(scan.inodes >= Int64(DiskUsageScan.maximumDepth))
    }

    @Test("a run that nests folders 20,000 deep: apply refused naming the folder, workspace untouched, view removed or emptied",
          arguments: [Int64?.none, 1 << 30])
    func sandboxRun(disk: Int64?) async throws {
        let ws = try ScratchWorkspace(files: ["a.txt": "a"])
        let staging = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("doer-deep-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: staging) }
        var configuration = TestSandboxes.configuration
        configuration.stagingRoot = staging
        let sandbox = try SandboxFactory(configuration: configuration).make(.bubblewrap)
        let script = "import os\nopen('a.txt', 'w').write('b')\nfor _ in range(\(Self.hostile)):\n    os.mkdir('d'); os.chdir('d')\nprint('nested')\n"
        let result = try await sandbox.run(ExecutionRequest(
            command: ["python3", "-c", script], workspace: ws.url,
            limits: ResourceLimits(wallClockSeconds: 60, diskBytes: disk), mode: .workspaceWrite))
        #expect(result.stdout.text.contains("nested"), result.escapeLog())
        #expect(!result.changesApplied)
        #expect(result.applyFailure?.contains("deeper than \(FileTree.maximumDepth) levels") == true, result.escapeLog())
        #expect(ws.read("a.txt") == "a", "the workspace changed although the apply was refused")
        #expect(!ws.exists("d"))
        // The view is removed after the result is returned, or emptied when its sandbox
        // serves the next run; give it time, not a threshold.
        var left: [String] = []
        for _ in 0..<600 {
            left = ((try? FileManager.default.contentsOfDirectory(atPath: staging.path)) ?? []).filter { $0.hasPrefix("ws-") }
                .filter { !((try? FileManager.default.contentsOfDirectory(atPath: staging.path + "/" + $0)) ?? []).isEmpty }
            if left.isEmpty { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(left.isEmpty, "the run's folders are still on the host's disk: \(left)")
    }
}
