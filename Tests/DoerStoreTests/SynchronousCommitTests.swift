import DoerCore
@testable import DoerStore
import DoerTestSupport
import Foundation
import Testing

/// `[store] synchronous_commit` reaches the connections: what PostgreSQL itself reports
/// (`SHOW synchronous_commit`) on the store's connections, on by default.
@Suite("store synchronous_commit")
struct SynchronousCommitTests {
    @Test("a PostgreSQL store's connections report synchronous_commit on by default and off when set off")
    func postgresConnections() throws {
        let server = try PostgresServer.shared()
        let url = try server.makeDatabase()
        let byDefault = try PostgresStore(url: url)
        defer { byDefault.close() }
        #expect(try byDefault.setting("synchronous_commit") == "on")

        let off = try PostgresStore(address: PostgresAddress(url: url), synchronousCommit: false)
        defer { off.close() }
        #expect(try off.setting("synchronous_commit") == "off")
        // Each connection is told, not only the first: several at once are all off.
        let answers = Answers()
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            let value = (try? off.setting("synchronous_commit")) ?? "error"
            answers.lock.withLock { answers.values.append(value) }
        }
        #expect(answers.values == Array(repeating: "off", count: 6))
        // The setting is per connection: the other store, on the same database, keeps its own.
        #expect(try byDefault.setting("synchronous_commit") == "on")
    }

    @Test("the store opened from settings applies it, and audit records still chain and verify with it off")
    func storesOpenedFromSettings() throws {
        let url = try PostgresServer.shared().makeDatabase()
        let stores = try Stores.open(StoreSettings(url: url, synchronousCommit: false), directories: DataDirectory(), auditKey: nil)
        #expect(stores.description.hasSuffix("(synchronous_commit off)"))
        #expect(try PostgresStore.shared(url: url, synchronousCommit: false).setting("synchronous_commit") == "off")
        #expect(try PostgresStore.shared(url: url).setting("synchronous_commit") == "on")
        for index in 0..<5 {
            try stores.audit.append(.note, actor: "ana", details: ["index": .int(Int64(index))])
        }
        let verification = try stores.audit.verify()
        #expect(verification.intact)
        #expect(verification.records == 5)
    }

    @Test("SQLite's audit file is opened with synchronous NORMAL, and FULL when every commit must be flushed")
    func sqliteLevels() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("doer-sync-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let normal = try SQLiteAuditStorage(path: folder.appendingPathComponent("normal.sqlite"))
        let full = try SQLiteAuditStorage(path: folder.appendingPathComponent("full.sqlite"), flushEachCommit: true)
        #expect(try normal.synchronousLevel() == 1)
        #expect(try full.synchronousLevel() == 2)
        let log = AuditLog(storage: full)
        try log.append(.note, actor: "ana", details: ["text": "flushed"])
        #expect(try full.synchronousLevel() == 2, "the writer connection keeps FULL after an append")
        #expect(try log.verify().intact)
    }
}

private final class Answers: @unchecked Sendable {
    let lock = NSLock()
    var values: [String] = []
}
