import DoerCore
import Foundation
import GRDB

/// Sessions and events in SQLite (WAL). A session's events are numbered inside one write
/// transaction, which SQLite serializes across processes.
final class SQLiteSessionStorage: SessionStorage {
    private let pool: DatabasePool

    init(path: URL) throws(DoerError) {
        pool = try StoreDatabase.open(path, holding: "the sessions") { pool in
            try StoreDatabase.migrate(pool, with: Self.migrator, holding: "the sessions", at: path)
        }
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

    func insertSession(_ record: SessionRecord) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT INTO session (id, task, workspace, createdAt, outcome, message) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [record.id, record.task, record.workspace, record.createdAt.timeIntervalSince1970,
                                       record.outcome, record.message])
        }
    }

    func appendEvent(to sessionID: String, type: String, json: String, createdAt: Double,
                     ending: (outcome: String, message: String)?) throws {
        try pool.write { db in
            let next = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) + 1 FROM event WHERE sessionId = ?",
                                          arguments: [sessionID]) ?? 1
            try db.execute(sql: "INSERT INTO event (sessionId, seq, type, json, createdAt) VALUES (?, ?, ?, ?, ?)",
                           arguments: [sessionID, next, type, json, createdAt])
            if let ending {
                try db.execute(sql: "UPDATE session SET outcome = ?, message = ? WHERE id = ?",
                               arguments: [ending.outcome, ending.message, sessionID])
            }
        }
    }

    func reopen(_ sessionID: String) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE session SET outcome = NULL, message = NULL WHERE id = ?", arguments: [sessionID])
        }
    }

    func sessions(limit: Int) throws -> [SessionRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT s.*, (SELECT COUNT(*) FROM event e WHERE e.sessionId = s.id) AS eventCount
                FROM session s ORDER BY createdAt DESC LIMIT ?
                """, arguments: [limit]).map(Self.record)
        }
    }

    func sessions(ids: [String], limit: Int) throws -> [SessionRecord] {
        let list = String(decoding: try JSONEncoder().encode(ids), as: UTF8.self)
        return try pool.read { db in
            // One JSON array, not one variable per id: an owner may have more ids than SQLite takes variables.
            try Row.fetchAll(db, sql: """
                SELECT s.*, (SELECT COUNT(*) FROM event e WHERE e.sessionId = s.id) AS eventCount
                FROM session s WHERE s.id IN (SELECT value FROM json_each(?)) ORDER BY createdAt DESC LIMIT ?
                """, arguments: [list, limit]).map(Self.record)
        }
    }

    func sessions(prefix: String, limit: Int) throws -> [SessionRecord] {
        try pool.read { db in
            // substr, not LIKE: an id prefix holding % or _ must not match other ids.
            try Row.fetchAll(db, sql: """
                SELECT s.*, (SELECT COUNT(*) FROM event e WHERE e.sessionId = s.id) AS eventCount
                FROM session s WHERE substr(id, 1, length(?)) = ? LIMIT ?
                """, arguments: [prefix, prefix, limit]).map(Self.record)
        }
    }

    func events(of sessionID: String) throws -> [StoredEvent] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, type, json, createdAt FROM event WHERE sessionId = ? ORDER BY seq",
                             arguments: [sessionID]).map { row in
                StoredEvent(seq: row["seq"], type: row["type"], json: row["json"], createdAt: row["createdAt"])
            }
        }
    }

    func importSession(_ record: SessionRecord, events: [StoredEvent]) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT INTO session (id, task, workspace, createdAt, outcome, message) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [record.id, record.task, record.workspace, record.createdAt.timeIntervalSince1970,
                                       record.outcome, record.message])
            for event in events {
                try db.execute(sql: "INSERT INTO event (sessionId, seq, type, json, createdAt) VALUES (?, ?, ?, ?, ?)",
                               arguments: [record.id, event.seq, event.type, event.json, event.createdAt])
            }
        }
    }

    private static func record(_ row: Row) -> SessionRecord {
        SessionRecord(id: row["id"], task: row["task"], workspace: row["workspace"],
                      createdAt: Date(timeIntervalSince1970: row["createdAt"]), outcome: row["outcome"],
                      message: row["message"], eventCount: row["eventCount"])
    }
}
