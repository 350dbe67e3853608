public import DoerCore
public import Foundation
import GRDB

/// One agent session as stored.
public struct SessionRecord: Sendable, Hashable {
    public var id: String
    public var task: String
    public var workspace: String
    public var createdAt: Date
    /// nil while the session has not ended (it is running, or it was interrupted).
    public var outcome: String?
    public var message: String?
    public var eventCount: Int
}

/// Sessions and every event of them, in SQLite (WAL), written as they happen so that a
/// crash or Ctrl-C loses nothing that was already reported.
///
/// ```swift
/// let store = try SessionStore(path: dataDirectory.appendingPathComponent("doer.sqlite"))
/// let session = try store.createSession(task: "add tests", workspace: "/src/app")
/// try store.append(.plan(plan), to: session.id)
/// ```
public final class SessionStore: Sendable {
    private let pool: DatabasePool

    public init(path: URL) throws(DoerError) {
        pool = try StoreDatabase.open(path, holding: "the sessions") { try Self.migrator.migrate($0) }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "session") { t in
                t.primaryKey("id", .text)
                t.column("task", .text).notNull()
                t.column("workspace", .text).notNull()
                t.column("createdAt", .double).notNull()
                t.column("outcome", .text)
                t.column("message", .text)
            }
            try db.create(table: "event") { t in
                t.column("sessionId", .text).notNull().references("session", onDelete: .cascade)
                t.column("seq", .integer).notNull()
                t.column("type", .text).notNull()
                t.column("json", .text).notNull()
                t.column("createdAt", .double).notNull()
                t.primaryKey(["sessionId", "seq"])
            }
        }
        return migrator
    }

    public func createSession(task: String, workspace: String) throws(DoerError) -> SessionRecord {
        let record = SessionRecord(id: UUID().uuidString.lowercased(), task: task, workspace: workspace,
                                   createdAt: Date(), outcome: nil, message: nil, eventCount: 0)
        try write { db in
            try db.execute(sql: "INSERT INTO session (id, task, workspace, createdAt) VALUES (?, ?, ?, ?)",
                           arguments: [record.id, record.task, record.workspace, record.createdAt.timeIntervalSince1970])
        }
        return record
    }

    /// Appends an agent event after the session's last one; a `.done` event also ends the session.
    public func append(_ event: AgentEvent, to sessionID: String) throws(DoerError) {
        try append(SessionEvent.agent(event), to: sessionID)
    }

    /// Appends an event after the session's last one; an agent's `.done` also ends the session.
    public func append(_ event: SessionEvent, to sessionID: String) throws(DoerError) {
        let json: String
        do {
            json = String(decoding: try JSONEncoder().encode(event), as: UTF8.self)
        } catch {
            throw .configuration("cannot encode event: \(error)")
        }
        let type = Self.typeName(json)
        try write { db in
            let next = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) + 1 FROM event WHERE sessionId = ?",
                                        arguments: [sessionID]) ?? 1
            try db.execute(sql: "INSERT INTO event (sessionId, seq, type, json, createdAt) VALUES (?, ?, ?, ?, ?)",
                           arguments: [sessionID, next, type, json, Date().timeIntervalSince1970])
            if case .agent(.done(let summary)) = event {
                try db.execute(sql: "UPDATE session SET outcome = ?, message = ? WHERE id = ?",
                               arguments: [summary.outcome.rawValue, summary.message, sessionID])
            }
        }
    }

    /// Marks a session as running again (its earlier outcome is kept in its events).
    public func reopen(_ sessionID: String) throws(DoerError) {
        try write { db in
            try db.execute(sql: "UPDATE session SET outcome = NULL, message = NULL WHERE id = ?", arguments: [sessionID])
        }
    }

    public func sessions(limit: Int = 50) throws(DoerError) -> [SessionRecord] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT s.*, (SELECT COUNT(*) FROM event e WHERE e.sessionId = s.id) AS eventCount
                FROM session s ORDER BY createdAt DESC LIMIT ?
                """, arguments: [limit]).map(Self.record)
        }
    }

    /// The session whose id is `id` or starts with it (unambiguously).
    public func session(_ id: String) throws(DoerError) -> SessionRecord {
        let rows = try read { db in
            try Row.fetchAll(db, sql: """
                SELECT s.*, (SELECT COUNT(*) FROM event e WHERE e.sessionId = s.id) AS eventCount
                FROM session s WHERE id LIKE ? || '%' LIMIT 2
                """, arguments: [id.lowercased()]).map(Self.record)
        }
        guard let first = rows.first else { throw .invalidArgument("no session \(id); `doer sessions` lists them") }
        guard rows.count == 1 else { throw .invalidArgument("'\(id)' matches several sessions; give more of the id") }
        return first
    }

    /// The session's events, oldest first. An event this version cannot read is left out.
    public func events(of sessionID: String) throws(DoerError) -> [SessionEvent] {
        let texts = try read { db in
            try String.fetchAll(db, sql: "SELECT json FROM event WHERE sessionId = ? ORDER BY seq", arguments: [sessionID])
        }
        return texts.compactMap { try? JSONDecoder().decode(SessionEvent.self, from: Data($0.utf8)) }
    }

    private static func record(_ row: Row) -> SessionRecord {
        SessionRecord(id: row["id"], task: row["task"], workspace: row["workspace"],
                      createdAt: Date(timeIntervalSince1970: row["createdAt"]), outcome: row["outcome"],
                      message: row["message"], eventCount: row["eventCount"])
    }

    private static func typeName(_ json: String) -> String {
        guard let start = json.firstIndex(of: "\""), let end = json[json.index(after: start)...].firstIndex(of: "\"") else { return "unknown" }
        return String(json[json.index(after: start)..<end])
    }

    private func write(_ body: (Database) throws -> Void) throws(DoerError) {
        do {
            try pool.write { try body($0) }
        } catch {
            throw .configuration("session database: \(error)")
        }
    }

    private func read<T>(_ body: (Database) throws -> T) throws(DoerError) -> T {
        do {
            return try pool.read { try body($0) }
        } catch {
            throw .configuration("session database: \(error)")
        }
    }
}
