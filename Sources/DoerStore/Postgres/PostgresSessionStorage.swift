import Foundation
import PostgresNIO

/// Sessions and events in PostgreSQL. A session's events are numbered under a
/// transaction-scoped advisory lock on that session, so writers on several hosts append
/// without gaps or collisions and sessions do not wait on one another.
final class PostgresSessionStorage: SessionStorage {
    private let pool: PostgresConnectionPool

    init(pool: PostgresConnectionPool) {
        self.pool = pool
    }

    func insertSession(_ record: SessionRecord) throws {
        try pool.withConnection { link in try Self.insert(record, link) }
    }

    func appendEvent(to sessionID: String, type: String, json: String, createdAt: Double,
                     ending: (outcome: String, message: String)?) throws {
        try pool.withConnection { link in
            try link.transaction {
                try link.query("SELECT pg_advisory_xact_lock($1::INTEGER, hashtext($2))",
                               [.int(Int64(PostgresSchema.sessionEventsLock)), .text(sessionID)])
                let inserted = try link.query("""
                    INSERT INTO event (session_id, seq, type, json, created_at)
                    SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4 FROM event WHERE session_id = $1
                    RETURNING seq
                    """, [.text(sessionID), .text(type), .text(json), .double(createdAt)])
                // Sent at commit, to every replica that listens: their followers of this
                // session then read the table after the last event they have.
                let seq = try inserted.first?[0].int() ?? 0
                try link.query("SELECT pg_notify($1, $2)", [.text(PostgresSchema.eventsChannel), .text("\(sessionID) \(seq)")])
                if let ending {
                    try link.query("UPDATE session SET outcome = $1, message = $2 WHERE id = $3",
                                   [.text(ending.outcome), .text(ending.message), .text(sessionID)])
                }
            }
        }
    }

    func reopen(_ sessionID: String) throws {
        try pool.withConnection { link in
            try link.query("UPDATE session SET outcome = NULL, message = NULL WHERE id = $1", [.text(sessionID)])
        }
    }

    func sessions(limit: Int) throws -> [SessionRecord] {
        try pool.withConnection { link in
            try link.query(Self.selectSessions + " ORDER BY s.created_at DESC LIMIT $1", [.int(Int64(limit))]).map(Self.record)
        }
    }

    func sessions(ids: [String], limit: Int) throws -> [SessionRecord] {
        let list = String(decoding: try JSONEncoder().encode(ids), as: UTF8.self)
        return try pool.withConnection { link in
            try link.query(Self.selectSessions + " WHERE s.id IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY s.created_at DESC LIMIT $2",
                           [.text(list), .int(Int64(limit))]).map(Self.record)
        }
    }

    func sessions(prefix: String, limit: Int) throws -> [SessionRecord] {
        try pool.withConnection { link in
            // left(), not LIKE: an id prefix holding % or _ must not match other ids.
            try link.query(Self.selectSessions + " WHERE left(s.id, length($1)) = $1 ORDER BY s.created_at DESC LIMIT $2",
                           [.text(prefix), .int(Int64(limit))]).map(Self.record)
        }
    }

    func events(of sessionID: String) throws -> [StoredEvent] {
        try pool.withConnection { link in
            try link.query("SELECT seq, type, json, created_at FROM event WHERE session_id = $1 ORDER BY seq",
                           [.text(sessionID)]).map { row in
                StoredEvent(seq: try row[0].int() ?? 0, type: try row[1].text() ?? "", json: try row[2].text() ?? "",
                            createdAt: try row[3].double() ?? 0)
            }
        }
    }

    func events(of sessionID: String, after seq: Int64) throws -> [StoredEvent] {
        try pool.withConnection { link in
            try link.query("SELECT seq, type, json, created_at FROM event WHERE session_id = $1 AND seq > $2 ORDER BY seq",
                           [.text(sessionID), .int(seq)]).map { row in
                StoredEvent(seq: try row[0].int() ?? 0, type: try row[1].text() ?? "", json: try row[2].text() ?? "",
                            createdAt: try row[3].double() ?? 0)
            }
        }
    }

    func importSession(_ record: SessionRecord, events: [StoredEvent]) throws {
        try pool.withConnection { link in
            try link.transaction {
                try Self.insert(record, link)
                for event in events {
                    try link.query("INSERT INTO event (session_id, seq, type, json, created_at) VALUES ($1, $2, $3, $4, $5)",
                                   [.text(record.id), .int(event.seq), .text(event.type), .text(event.json), .double(event.createdAt)])
                }
            }
        }
    }

    private static let selectSessions = """
        SELECT s.id, s.task, s.workspace, s.created_at, s.outcome, s.message,
               (SELECT COUNT(*) FROM event e WHERE e.session_id = s.id) AS event_count
        FROM session s
        """

    private static func insert(_ record: SessionRecord, _ link: PostgresLink) throws {
        try link.query("INSERT INTO session (id, task, workspace, created_at, outcome, message) VALUES ($1, $2, $3, $4, $5, $6)",
                       [.text(record.id), .text(record.task), .text(record.workspace),
                        .double(record.createdAt.timeIntervalSince1970), .text(record.outcome), .text(record.message)])
    }

    private static func record(_ row: PostgresRandomAccessRow) throws -> SessionRecord {
        SessionRecord(id: try row[0].text() ?? "", task: try row[1].text() ?? "", workspace: try row[2].text() ?? "",
                      createdAt: Date(timeIntervalSince1970: try row[3].double() ?? 0), outcome: try row[4].text(),
                      message: try row[5].text(), eventCount: Int(try row[6].int() ?? 0))
    }
}
