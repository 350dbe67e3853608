import DoerCore
import DoerStore
import Foundation
import Testing

/// The store's behaviour, the same on SQLite and on PostgreSQL.
@Suite("store on both engines")
struct StoreEngineTests {
    static let plan = Plan(steps: ["write", "test"], files: ["a.py"], language: "python", testStrategy: "pytest")

    /// Five records, as a session would leave them.
    @discardableResult
    func filled(_ store: TestStore, key: Data? = nil) throws -> AuditLog {
        let log = try store.audit(key: key)
        try log.append(.sessionStarted, session: "s1", actor: "ana", details: ["task": "add tests", "workspace": "/src"])
        try log.append(.plan, session: "s1", actor: "ana", details: ["steps": ["write", "test"]])
        try log.append(.sandboxRun, session: "s1", actor: "ana", details: ["command": "pytest -q", "exitCode": 1])
        try log.append(.approval, session: "s2", actor: "ana", details: ["approved": true, "by": "ana"])
        try log.append(.sessionEnded, session: "s1", actor: "ana", details: ["outcome": "passed"])
        return log
    }

    // MARK: sessions

    @Test("events are kept in order and survive closing and reopening", arguments: StoreEngine.allCases)
    func persistence(engine: StoreEngine) throws {
        let store = try TestStore(engine)
        var sessionID = ""
        do {
            let sessions = try store.sessions()
            let session = try sessions.createSession(task: "add tests", workspace: "/src/app")
            sessionID = session.id
            try sessions.append(.started(task: "add tests", workspace: "/src/app", candidates: 1), to: session.id)
            try sessions.append(.plan(Self.plan), to: session.id)
            try sessions.append(.action(candidate: 0, .writeFile(path: "a.py", content: "x = 'ü'\n")), to: session.id)
        }
        let reopened = try store.sessions()
        #expect(try reopened.events(of: sessionID) == [
            .agent(.started(task: "add tests", workspace: "/src/app", candidates: 1)), .agent(.plan(Self.plan)),
            .agent(.action(candidate: 0, .writeFile(path: "a.py", content: "x = 'ü'\n"))),
        ])
        let record = try reopened.session(String(sessionID.prefix(8)))
        #expect(record.outcome == nil, "an interrupted session has no outcome")
        #expect(record.eventCount == 3)
        #expect(record.task == "add tests")
        #expect(abs(record.createdAt.timeIntervalSinceNow) < 3600)
    }

    @Test("a done event ends the session; reopening clears the outcome but keeps the events", arguments: StoreEngine.allCases)
    func doneAndReopen(engine: StoreEngine) throws {
        let sessions = try TestStore(engine).sessions()
        let session = try sessions.createSession(task: "t", workspace: "/w")
        let summary = RunSummary(outcome: .iterationLimit, winner: nil, iterations: 3, changedFiles: [], applied: false,
                                 diff: "", usage: TokenUsage(promptTokens: 10, completionTokens: 5), durationMs: 12, message: "limit")
        try sessions.append(.done(summary), to: session.id)
        #expect(try sessions.session(session.id).outcome == "iteration-limit")
        #expect(try sessions.session(session.id).message == "limit")
        try sessions.reopen(session.id)
        #expect(try sessions.session(session.id).outcome == nil)
        #expect(try sessions.events(of: session.id) == [.agent(.done(summary))])
    }

    @Test("appends from many tasks and two handles land once each, numbered without gaps", arguments: StoreEngine.allCases)
    func concurrentEvents(engine: StoreEngine) async throws {
        let store = try TestStore(engine)
        let first = try store.sessions(), second = try store.sessions()
        let session = try first.createSession(task: "t", workspace: "/w")
        let other = try first.createSession(task: "u", workspace: "/w")
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<60 {
                let handle = index.isMultiple(of: 2) ? first : second
                group.addTask {
                    try? handle.append(.messageDelta(candidate: index % 4, text: "\(index)"), to: index % 3 == 0 ? other.id : session.id)
                }
            }
        }
        let texts = try first.events(of: session.id) + first.events(of: other.id)
        let numbers = texts.compactMap { event -> String? in
            if case .agent(.messageDelta(_, let text)) = event { return text } else { return nil }
        }
        #expect(numbers.sorted() == (0..<60).map(String.init).sorted())
        #expect(try first.session(session.id).eventCount == 40)
        #expect(try first.session(other.id).eventCount == 20)
    }

    @Test("lookups: unknown, ambiguous, and prefixes holding LIKE wildcards", arguments: StoreEngine.allCases)
    func lookups(engine: StoreEngine) throws {
        let sessions = try TestStore(engine).sessions()
        #expect(throws: DoerError.self) { try sessions.session("nope") }
        let a = try sessions.createSession(task: "a", workspace: "/w")
        _ = try sessions.createSession(task: "b", workspace: "/w")
        #expect { try sessions.session("") } throws: { "\($0)".contains("several sessions") }
        // % and _ are wildcards to LIKE: they must match nothing here, not every session.
        #expect { try sessions.session("%") } throws: { "\($0)".contains("no session") }
        #expect { try sessions.session("_") } throws: { "\($0)".contains("no session") }
        #expect(try sessions.session(a.id.uppercased()).id == a.id, "ids are matched whatever their case")
        #expect(try sessions.sessions(limit: 1).count == 1)
        #expect(try sessions.sessions().map(\.task) == ["b", "a"], "newest first")
    }

    @Test("one owner's sessions by id, newest first, however many others there are; unknown and hostile ids match nothing",
          arguments: StoreEngine.allCases)
    func sessionsByID(engine: StoreEngine) throws {
        let store = try TestStore(engine)
        let sessions = try store.sessions()
        let mine = try (0..<3).map { try sessions.createSession(task: "mine \($0)", workspace: "/w").id }
        for index in 0..<40 { _ = try sessions.createSession(task: "other \(index)", workspace: "/w") }
        let listed = try sessions.sessions(ids: Set(mine + ["nope", "x') OR 1=1 --", "%"]), limit: 10)
        #expect(Set(listed.map(\.id)) == Set(mine))
        #expect(listed.map(\.createdAt) == listed.map(\.createdAt).sorted(by: >))
        #expect(try sessions.sessions(ids: Set(mine), limit: 2).count == 2)
        #expect(try sessions.sessions(ids: [], limit: 10).isEmpty)
    }

    @Test("an event whose text would break SQL quoting is stored as it is", arguments: StoreEngine.allCases)
    func hostileText(engine: StoreEngine) throws {
        let sessions = try TestStore(engine).sessions()
        let text = "'); DROP TABLE event; -- $1 \\ \u{1}\n\u{7f} 🙂"
        let session = try sessions.createSession(task: text, workspace: text)
        try sessions.append(.messageDelta(candidate: 0, text: text), to: session.id)
        #expect(try sessions.events(of: session.id) == [.agent(.messageDelta(candidate: 0, text: text))])
        #expect(try sessions.session(session.id).task == text)
    }

    // MARK: tokens and owners

    @Test("tokens: only the hash is kept; revoked and unknown tokens name no one", arguments: StoreEngine.allCases)
    func tokens(engine: StoreEngine) throws {
        let store = try TestStore(engine)
        let access = try store.open().access
        let (token, record) = try access.createToken(user: "ada")
        #expect(try access.record(forToken: token)?.user == "ada")
        #expect(try access.record(forToken: token + "x") == nil)
        #expect(try access.record(forToken: String(token.dropLast())) == nil)
        #expect(try access.tokens().map(\.id) == [record.id])
        try access.revokeToken(id: record.id)
        try access.revokeToken(id: record.id)
        #expect(try access.record(forToken: token) == nil)
        #expect(try store.open().access.tokens().first?.isRevoked == true)
        #expect(throws: DoerError.self) { try access.revokeToken(id: "nope") }
        #expect(throws: DoerError.self) { try access.createToken(user: "-rf") }
        try access.setOwner("ada", ofSession: "s1")
        try access.setOwner("bob", ofSession: "s1")
        try access.setOwner("bob", ofSession: "s2")
        #expect(try access.owner(ofSession: "s1") == "bob")
        #expect(try access.sessions(ownedBy: "bob") == ["s1", "s2"])
        #expect(try access.sessions(ownedBy: "ada").isEmpty)
    }

    // MARK: the audit chain

    @Test("an untouched chain verifies; every record links to the one before it", arguments: StoreEngine.allCases)
    func intact(engine: StoreEngine) throws {
        // The store is kept for the whole test: its folder goes when it does.
        let store = try TestStore(engine)
        let log = try filled(store)
        defer { withExtendedLifetime(store) {} }
        let verification = try log.verify()
        #expect(verification.intact)
        #expect(verification.records == 5)
        let records = try log.records()
        #expect(records.map(\.seq) == [1, 2, 3, 4, 5])
        #expect(records[0].previousHash == AuditRecord.genesis)
        for (previous, record) in zip(records, records.dropFirst()) { #expect(record.previousHash == previous.hash) }
        #expect(verification.head == records.last?.hash)
        #expect(try log.records(session: "s1").count == 4)
        #expect(try log.records(session: "%").isEmpty)
        #expect(try log.records(limit: 2).map(\.seq) == [4, 5])
    }

    @Test("two handles appending in turn: each append follows the other's, so every one starts from a head it did not write", arguments: StoreEngine.allCases)
    func alternatingWriters(engine: StoreEngine) throws {
        let store = try TestStore(engine)
        defer { withExtendedLifetime(store) {} }
        let first = try store.audit()
        let second = try store.audit()
        var appended: [AuditRecord] = []
        for index in 0..<10 {
            let log = index.isMultiple(of: 2) ? first : second
            appended.append(try log.append(.plan, session: "s\(index)", actor: "ana", details: ["index": .int(Int64(index))]))
        }
        #expect(appended.map(\.seq) == Array(1...10))
        for (previous, record) in zip(appended, appended.dropFirst()) { #expect(record.previousHash == previous.hash) }
        let verification = try first.verify()
        #expect(verification.intact)
        #expect(verification.records == 10)
        #expect(try second.records().map(\.hash) == appended.map(\.hash))
    }

    @Test("the database refuses updates, deletes and truncation", arguments: StoreEngine.allCases)
    func appendOnly(engine: StoreEngine) throws {
        let store = try TestStore(engine)
        let log = try filled(store)
        #expect(throws: (any Error).self) { try store.execute("UPDATE audit SET actor = 'eve' WHERE seq = 2") }
        #expect(throws: (any Error).self) { try store.execute("DELETE FROM audit WHERE seq = 2") }
        if engine == .postgres {
            #expect(throws: (any Error).self) { try store.execute("TRUNCATE audit") }
        }
        #expect(try log.verify().records == 5)
    }

    @Test("edits, rehashed edits, deletions, reorderings and a cut tail are found", arguments: StoreEngine.allCases)
    func tampering(engine: StoreEngine) throws {
        // Each case on a chain of its own.
        func broken(_ tamper: (TestStore, AuditLog) throws -> Void) throws -> AuditVerification.Break? {
            let store = try TestStore(engine)
            let log = try filled(store)
            try tamper(store, log)
            return try store.audit().verify().firstBreak
        }
        let edited = try broken { store, _ in
            try store.tamper("UPDATE audit SET details = \(literal(#"{"command":"pytest -q","exitCode":0}"#)) WHERE seq = 3")
        }
        #expect(edited?.seq == 3)
        #expect(edited?.reason.contains("edited") == true)
        let invalidJSON = try broken { store, _ in try store.tamper("UPDATE audit SET details = '{' WHERE seq = 2") }
        #expect(invalidJSON?.seq == 2)
        let rehashed = try broken { store, log in
            var record = try log.records()[1]
            record.actor = "eve"
            try store.tamper("UPDATE audit SET actor = 'eve', hash = \(literal(sha256Hex(record.canonicalJSON))) WHERE seq = 2")
        }
        #expect(rehashed?.seq == 3)
        let deleted = try broken { store, _ in try store.tamper("DELETE FROM audit WHERE seq = 2") }
        #expect(deleted?.seq == 3)
        #expect(deleted?.reason.contains("deleted") == true)
        let first = try broken { store, _ in try store.tamper("DELETE FROM audit WHERE seq = 1") }
        #expect(first?.seq == 2)
        let reordered = try broken { store, _ in
            try store.tamper("UPDATE audit SET seq = 1002 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = 1002")
        }
        #expect(reordered?.seq == 2)
        let renumbered = try broken { store, _ in try store.tamper("UPDATE audit SET seq = seq + 10 WHERE seq >= 4") }
        #expect(renumbered?.seq == 14)
        // A cut tail leaves a chain that verifies: only a copy of the head shows it.
        let store = try TestStore(engine)
        let head = try filled(store).verify().head
        try store.tamper("DELETE FROM audit WHERE seq = 5")
        let cut = try store.audit().verify()
        #expect(cut.intact && cut.head != head)
    }

    @Test("a forged record inserted into the chain is found", arguments: StoreEngine.allCases)
    func inserted(engine: StoreEngine) throws {
        let store = try TestStore(engine)
        let log = try filled(store)
        let records = try log.records()
        let forged = AuditRecord(seq: 3, time: records[2].time, sessionID: "s1", kind: "approval", actor: "eve",
                                 details: ["approved": true], previousHash: records[1].hash, hash: "", hmac: nil)
        let insert = "INSERT INTO audit (seq, time, sessionId, kind, actor, details, prevHash, hash) VALUES (3, \(literal(forged.time)), 's1', "
            + "'approval', 'eve', \(literal(forged.details.canonicalJSON)), \(literal(forged.previousHash)), \(literal(sha256Hex(forged.canonicalJSON))))"
        try store.tamper("UPDATE audit SET seq = seq + 100 WHERE seq >= 3")
        if engine == .postgres {
            // UNIQUE (prev_hash): a second record pointing at record 2 is refused outright...
            #expect(throws: (any Error).self) { try store.tamper(insert) }
            // ...until the owner drops the constraint; verify still finds the fork.
            try store.tamper("ALTER TABLE audit DROP CONSTRAINT audit_prev_hash_unique")
        }
        try store.tamper(insert)
        let broken = try #require(try log.verify().firstBreak)
        #expect(broken.seq == 103, "the forged record fits, the one after it no longer does")
    }

    @Test("HMAC: the right key verifies; a wrong key, no signature or a rewrite without the key fail", arguments: StoreEngine.allCases)
    func hmac(engine: StoreEngine) throws {
        let store = try TestStore(engine)
        try filled(store, key: Data("right key".utf8))
        #expect(try store.audit(key: Data("right key".utf8)).verify().intact)
        let wrong = try #require(try store.audit(key: Data("wrong key".utf8)).verify().firstBreak)
        #expect(wrong.seq == 1 && wrong.reason.contains("HMAC mismatch"))
        #expect(try store.audit().verify().intact, "without a key only the chain is checked")
        var record = try store.audit().records()[4]
        record.details = ["outcome": "failed-tests"]
        try store.tamper("UPDATE audit SET details = \(literal(record.details.canonicalJSON)), hash = \(literal(sha256Hex(record.canonicalJSON))) WHERE seq = 5")
        let forged = try #require(try store.audit(key: Data("right key".utf8)).verify().firstBreak)
        #expect(forged.seq == 5 && forged.reason.contains("HMAC"))

        let unsigned = try TestStore(engine)
        try filled(unsigned)
        let missing = try #require(try unsigned.audit(key: Data("k".utf8)).verify().firstBreak)
        #expect(missing.seq == 1 && missing.reason.contains("not signed"))
    }

    @Test("secrets are redacted before they reach the database", arguments: StoreEngine.allCases)
    func redaction(engine: StoreEngine) throws {
        let store = try TestStore(engine)
        let redactor = SecretRedactor(environment: ["MY_API_KEY": "hunter2-value-long", "HOME": "/root"])
        let log = try store.audit(redactor: redactor)
        try log.append(.sandboxRun, actor: "ana", details: [
            "command": "curl -H 'Authorization: Bearer abc.def.ghi' https://user:pw123@example.com/x",
            "output": "key sk-proj-ABCDEFGHIJKLMNOP and hunter2-value-long", "token": "plain-value-under-a-secret-name",
        ])
        let stored = try store.storedDetails().joined()
        for secret in ["abc.def.ghi", "pw123", "sk-proj-ABCDEFGHIJKLMNOP", "hunter2-value-long", "plain-value-under"] {
            #expect(!stored.contains(secret), "\(secret) leaked into \(stored)")
        }
        #expect(try log.verify().intact)
    }

    @Test("concurrent appenders through several handles keep one unbroken chain", arguments: StoreEngine.allCases)
    func concurrentAppends(engine: StoreEngine) async throws {
        let store = try TestStore(engine)
        let logs = try (0..<3).map { _ in try store.audit() }
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<60 {
                let log = logs[index % logs.count]
                group.addTask { _ = try? log.append(.note, actor: "t\(index)", details: ["i": .int(Int64(index))]) }
            }
        }
        let verification = try logs[0].verify()
        #expect(verification.intact)
        #expect(verification.records == 60)
        let indices = try logs[0].records().compactMap { record -> Int64? in
            if case .object(let fields) = record.details, case .int(let i)? = fields["i"] { return i } else { return nil }
        }
        #expect(indices.sorted() == (0..<60).map(Int64.init))
    }

    @Test("a transaction that fails half way leaves no partial record", arguments: StoreEngine.allCases)
    func interruptedTransaction(engine: StoreEngine) throws {
        let store = try TestStore(engine)
        let log = try filled(store)
        let broken = engine == .sqlite
            ? "INSERT INTO audit (seq, time, kind, actor, details, prevHash, hash) VALUES (6, 't', 'note', 'x', '{}', 'p', 'h'); SELECT RAISE(ABORT, 'crash')"
            : "BEGIN; INSERT INTO audit (seq, time, kind, actor, details, prev_hash, hash) VALUES (6, 't', 'note', 'x', '{}', 'p', 'h'); SELECT 1/0"
        #expect(throws: (any Error).self) { try store.execute(broken) }
        #expect(try log.verify().intact)
        try log.append(.note, actor: "ana", details: ["text": "after"])
        #expect(try log.verify().records == 6)
        #expect(try log.verify().intact)
    }

    // MARK: copying SQLite to PostgreSQL

    @Test("a SQLite store copies into PostgreSQL whole, and its chain verifies there")
    func copy() throws {
        let sqlite = try TestStore(.sqlite), postgres = try TestStore(.postgres)
        let source = try sqlite.open(auditKey: Data("k".utf8))
        let session = try source.sessions.createSession(task: "t", workspace: "/w")
        try source.sessions.append(.plan(Self.plan), to: session.id)
        try source.sessions.append(.messageDelta(candidate: 0, text: "x"), to: session.id)
        _ = try source.sessions.createSession(task: "u", workspace: "/w")
        let (token, _) = try source.access.createToken(user: "ada")
        try source.access.setOwner("ada", ofSession: session.id)
        for index in 0..<20 { try source.audit.append(.note, session: session.id, actor: "ana", details: ["i": .int(Int64(index))]) }

        let target = try postgres.open(auditKey: Data("k".utf8))
        let report = try StoreCopy(from: source, to: target).run()
        #expect(report.sessions == 2 && report.events == 2 && report.tokens == 1 && report.owners == 1 && report.auditRecords == 20)
        #expect(try target.sessions.events(of: session.id) == (try source.sessions.events(of: session.id)))
        #expect(try target.sessions.sessions().map(\.id) == (try source.sessions.sessions().map(\.id)))
        #expect(try target.access.record(forToken: token)?.user == "ada")
        #expect(try target.access.owner(ofSession: session.id) == "ada")
        #expect(try target.audit.records() == (try source.audit.records()))
        #expect(try target.audit.verify() == (try source.audit.verify()))
        // The copy goes on as one chain.
        try target.audit.append(.note, actor: "ana")
        #expect(try target.audit.verify().intact)
        // A second copy into the same database is refused: chains are never merged.
        #expect { try StoreCopy(from: source, to: target).run() } throws: { "\($0)".contains("empty database") }
    }

    @Test("a source whose chain is broken is not copied")
    func copyBroken() throws {
        let sqlite = try TestStore(.sqlite), postgres = try TestStore(.postgres)
        try filled(sqlite)
        try sqlite.tamper("DELETE FROM audit WHERE seq = 2")
        #expect { try StoreCopy(from: try sqlite.open(), to: try postgres.open()).run() } throws: { "\($0)".contains("does not verify") }
        #expect(try postgres.audit().records().isEmpty)
    }
}
