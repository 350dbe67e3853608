import DoerCore
import DoerStore
import Foundation
import Testing

@Suite("audit recorder never reads through a linked folder")
struct AuditLinkedFolderTests {
    @Test("a changed path whose folder is a link (to /etc, to another workspace) is noted as a link, never hashed")
    func linkedFolders() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("doer-linked-\(UUID().uuidString)")
        let other = FileManager.default.temporaryDirectory.appendingPathComponent("doer-other-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: other.appendingPathComponent("deep"), withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(at: root)
            try? FileManager.default.removeItem(at: other)
        }
        try Data("someone else's".utf8).write(to: other.appendingPathComponent("deep/file.txt"))
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("etc").path, withDestinationPath: "/etc")
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("theirs").path, withDestinationPath: other.path)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("sub/up").path, withDestinationPath: "../theirs")
        try Data("mine".utf8).write(to: root.appendingPathComponent("sub/mine.txt"))
        let log = try AuditLog(path: root.appendingPathComponent("db/doer.sqlite"))
        let recorder = AuditRecorder(log: log, actor: "ana", session: "s-1", workspace: root)
        try recorder.record(.changesApplied(files: [
            FileChange(path: "etc/passwd", kind: .modified), FileChange(path: "theirs/deep/file.txt", kind: .added),
            FileChange(path: "sub/up/deep/file.txt", kind: .added), FileChange(path: "sub/mine.txt", kind: .added),
        ]))
        guard case .array(let files) = try log.records().last?.details["files"] else { Issue.record("no files"); return }
        for index in 0..<3 {
            #expect(files[index]["sha256"] == nil, "read through a linked folder: \(files[index])")
            #expect(files[index]["link"] == true)
        }
        #expect(files[3]["sha256"] != nil, "control: a regular file is hashed")
    }
}
