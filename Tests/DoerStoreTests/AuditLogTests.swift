import Crypto
import DoerCore
@testable import DoerStore
import Foundation
import GRDB
import Testing

@Suite("audit trail")
struct AuditLogTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("doer-audit-\(UUID().uuidString)/doer.sqlite")

    /// Five records, as a session would leave them.
    func filled(key: Data? = nil) throws -> AuditLog {
        let log = try AuditLog(path: path, key: key)
        try log.append(.sessionStarted, session: "s1", actor: "ana", details: ["task": "add tests", "workspace": "/src"])
        try log.append(.plan, session: "s1", actor: "ana", details: ["steps": ["write", "test"]])
        try log.append(.sandboxRun, session: "s1", actor: "ana", details: ["command": "pytest -q", "exitCode": 1])
        try log.append(.approval, session: "s1", actor: "ana", details: ["approved": true, "by": "ana"])
        try log.append(.sessionEnded, session: "s1", actor: "ana", details: ["outcome": "passed"])
        return log
    }

    /// Opens the file directly, as someone with access to it would, with the append-only
    /// triggers dropped first (they stop mistakes, not someone who can write the file).
    func tamper(_ sql: String, arguments: StatementArguments = []) throws {
        let queue = try DatabaseQueue(path: path.path)
        try queue.write { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete")
            try db.execute(sql: sql, arguments: arguments)
        }
    }

    @Test("an untouched chain verifies; every record links to the one before it")
    func intact() throws {
        let log = try filled()
        let verification = try log.verify()
        #expect(verification.intact)
        #expect(verification.records == 5)
        let records = try log.records()
        #expect(records.map(\.seq) == [1, 2, 3, 4, 5])
        #expect(records[0].previousHash == AuditRecord.genesis)
        for (previous, record) in zip(records, records.dropFirst()) {
            #expect(record.previousHash == previous.hash)
        }
        #expect(verification.head == records.last?.hash)
        #expect(try log.records(session: "s1").count == 5)
    }

    @Test("record times are written as before: UTC, milliseconds (cut, never rounded up into the future), Z")
    func timeFormat() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        for seconds in [0.0, 1_796_685_037.123, 1_796_685_037.9996, 951_782_400.5, 4_102_444_799.001] {
            let date = Date(timeIntervalSince1970: seconds)
            let written = AuditLog.timestamp(date)
            #expect(written.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil, "\(written)")
            let read = try #require(formatter.date(from: written), "\(written)")
            #expect(read <= date && date.timeIntervalSince(read) < 0.001, "\(seconds): \(written)")
        }
        #expect(AuditLog.timestamp(Date(timeIntervalSince1970: 1_796_685_037.5)) == "2026-12-07T23:10:37.500Z")
    }

    @Test("a closed store keeps its write-ahead log, and what was committed is read back by the next process's connection")
    func writeAheadLogKept() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("doer-wal-\(UUID().uuidString)/doer.sqlite")
        defer { try? FileManager.default.removeItem(at: path.deletingLastPathComponent()) }
        do {
            let log = try AuditLog(path: path)
            _ = try log.append(kind: "note", session: nil, actor: "ada", details: ["n": .int(1)])
        }
        #expect(FileManager.default.fileExists(atPath: path.path + "-wal"), "not checkpointed and deleted at close")
        do {
            let log = try AuditLog(path: path)
            _ = try log.append(kind: "note", session: nil, actor: "ada", details: ["n": .int(2)])
            let verified = try log.verify()
            #expect(verified.records == 2 && verified.firstBreak == nil)
        }
        let queue = try DatabaseQueue(path: path.path)
        #expect(try queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM audit") } == 2)
    }

    @Test("canonical JSON sorts keys, has no whitespace and escapes control characters")
    func canonical() throws {
        let value: AuditValue = ["b": 1, "a": ["z": true, "y": .null], "c": "line\n\"quoted\"\u{01}"]
        #expect(value.canonicalJSON == #"{"a":{"y":null,"z":true},"b":1,"c":"line\n\"quoted\"\u0001"}"#)
        #expect(try AuditValue.parse(value.canonicalJSON) == value)
    }

    @Test("the database refuses updates and deletes through SQL")
    func appendOnly() throws {
        _ = try filled()
        let queue = try DatabaseQueue(path: path.path)
        #expect(throws: (any Error).self) {
            try queue.write { try $0.execute(sql: "UPDATE audit SET actor = 'eve' WHERE seq = 2") }
        }
        #expect(throws: (any Error).self) {
            try queue.write { try $0.execute(sql: "DELETE FROM audit WHERE seq = 2") }
        }
    }

    @Test("an edited record is named by verify")
    func edited() throws {
        let log = try filled()
        try tamper("UPDATE audit SET details = ? WHERE seq = 3", arguments: [#"{"command":"pytest -q","exitCode":0}"#])
        let broken = try #require(try log.verify().firstBreak)
        #expect(broken.seq == 3)
        #expect(broken.reason.contains("edited"))
    }

    @Test("an edited record whose hash was recomputed breaks the next link")
    func editedAndRehashed() throws {
        let log = try filled()
        // Rewrite record 2's actor and give it a correct hash of its new content.
        var record = try log.records()[1]
        record.actor = "eve"
        let hash = sha256Hex(record.canonicalJSON)
        try tamper("UPDATE audit SET actor = 'eve', hash = ? WHERE seq = 2", arguments: [hash])
        let broken = try #require(try log.verify().firstBreak)
        #expect(broken.seq == 3)
    }

    @Test("a deleted record is detected at the gap")
    func deleted() throws {
        let log = try filled()
        try tamper("DELETE FROM audit WHERE seq = 2")
        let broken = try #require(try log.verify().firstBreak)
        #expect(broken.seq == 3)
        #expect(broken.reason.contains("deleted"))
    }

    @Test("reordered records are detected")
    func reordered() throws {
        let log = try filled()
        // Swap the contents of records 2 and 3, keeping their positions.
        try tamper("""
            UPDATE audit SET seq = -2 WHERE seq = 2;
            UPDATE audit SET seq = 2 WHERE seq = 3;
            UPDATE audit SET seq = 3 WHERE seq = -2;
            """)
        let broken = try #require(try log.verify().firstBreak)
        #expect(broken.seq == 2)
    }

    @Test("an inserted record is detected")
    func inserted() throws {
        let log = try filled()
        let records = try log.records()
        // A forged record between 2 and 3, correctly hashed and pointing at record 2.
        try tamper("UPDATE audit SET seq = seq + 100 WHERE seq >= 3")
        let forged = AuditRecord(seq: 3, time: records[2].time, sessionID: "s1", kind: "approval", actor: "eve",
                                 details: ["approved": true], previousHash: records[1].hash, hash: "", hmac: nil)
        try tamper("INSERT INTO audit (seq, time, sessionId, kind, actor, details, prevHash, hash) VALUES (3, ?, 's1', 'approval', 'eve', ?, ?, ?)",
                   arguments: [forged.time, forged.details.canonicalJSON, forged.previousHash, sha256Hex(forged.canonicalJSON)])
        let broken = try #require(try log.verify().firstBreak)
        #expect(broken.seq == 103, "the forged record fits, the one after it no longer does")
    }

    @Test("HMAC: the right key verifies, a wrong key or a missing key fails")
    func hmac() throws {
        _ = try filled(key: Data("right key".utf8))
        #expect(try AuditLog(path: path, key: Data("right key".utf8)).verify().intact)
        let wrong = try #require(try AuditLog(path: path, key: Data("wrong key".utf8)).verify().firstBreak)
        #expect(wrong.seq == 1)
        #expect(wrong.reason.contains("HMAC mismatch"))
        // Without a key only the chain is checked, and it is intact.
        #expect(try AuditLog(path: path).verify().intact)
    }

    @Test("records written without a key fail verification once a key is required")
    func unsigned() throws {
        _ = try filled()
        let broken = try #require(try AuditLog(path: path, key: Data("k".utf8)).verify().firstBreak)
        #expect(broken.seq == 1)
        #expect(broken.reason.contains("not signed"))
    }

    @Test("a rewritten chain without the key fails HMAC verification")
    func forgedWithoutKey() throws {
        let log = try filled(key: Data("secret".utf8))
        var record = try log.records()[4]
        record.details = ["outcome": "failed-tests"]
        try tamper("UPDATE audit SET details = ?, hash = ? WHERE seq = 5",
                   arguments: [record.details.canonicalJSON, sha256Hex(record.canonicalJSON)])
        let broken = try #require(try AuditLog(path: path, key: Data("secret".utf8)).verify().firstBreak)
        #expect(broken.seq == 5)
        #expect(broken.reason.contains("HMAC"))
    }

    @Test("secrets are redacted before they are written")
    func redaction() throws {
        let redactor = SecretRedactor(environment: ["MY_API_KEY": "hunter2-value-long", "HOME": "/root", "DB_PASSWORD": "pa55word!"])
        let log = try AuditLog(path: path, redactor: redactor)
        try log.append(.sandboxRun, actor: "ana", details: [
            "command": "curl -H 'Authorization: Bearer abc.def.ghi' https://user:pw123@example.com/x",
            "output": "key sk-proj-ABCDEFGHIJKLMNOP and ghp_0123456789abcdefghijABCDEFGHIJ and hunter2-value-long",
            "env": "OPENAI_API_KEY=sk-zzzzzzzzzzzz GITHUB_TOKEN=whatever DB_PASSWORD=pa55word! PATH=/usr/bin",
            "token": "plain-value-under-a-secret-name",
            "json": #"{"client_secret": "s3cr3t", "user": "ana"}"#,
            "home": "/root",
        ])
        let stored = try DatabaseQueue(path: path.path).read { db in try String.fetchOne(db, sql: "SELECT details FROM audit")! }
        for secret in ["abc.def.ghi", "pw123", "sk-proj-ABCDEFGHIJKLMNOP", "ghp_0123456789", "hunter2-value-long",
                       "sk-zzzzzzzzzzzz", "whatever", "pa55word!", "plain-value-under", "s3cr3t"] {
            #expect(!stored.contains(secret), "\(secret) leaked into \(stored)")
        }
        #expect(stored.contains("PATH=/usr/bin"), "ordinary values stay")
        #expect(stored.contains("/root"))
        #expect(stored.contains(#"\"user\": \"ana\""#))
        #expect(try log.verify().intact)
    }

    @Test("concurrent appenders from many tasks keep one unbroken chain")
    func concurrentAppends() async throws {
        let first = try AuditLog(path: path)
        let second = try AuditLog(path: path)
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                let log = index.isMultiple(of: 2) ? first : second
                group.addTask { _ = try? log.append(.note, actor: "t\(index)", details: ["i": .int(Int64(index))]) }
            }
        }
        let verification = try first.verify()
        #expect(verification.intact)
        #expect(verification.records == 40)
    }

    @Test("an interrupted transaction leaves no partial record and a verifiable chain")
    func interruptedTransaction() throws {
        let log = try filled()
        let queue = try DatabaseQueue(path: path.path)
        struct Crash: Error {}
        #expect(throws: Crash.self) {
            try queue.write { db in
                try db.execute(sql: "INSERT INTO audit (seq, time, kind, actor, details, prevHash, hash) VALUES (6, 't', 'note', 'x', '{}', 'p', 'h')")
                throw Crash()
            }
        }
        #expect(try log.verify().intact)
        try log.append(.note, actor: "ana", details: ["text": "after"])
        let verification = try log.verify()
        #expect(verification.intact)
        #expect(verification.records == 6)
    }
}

func sha256Hex(_ text: String) -> String {
    // Recomputed the way someone rewriting the file would.
    SHA256.hash(data: Data(text.utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}
