import DoerCore
import Foundation
import GRDB

/// The audit chain in SQLite, in the same file as the sessions. Each append is one
/// IMMEDIATE transaction (read the head, insert the next record), so writers in several
/// processes are serialized by SQLite's write lock and a crash leaves the whole record
/// or none of it.
final class SQLiteAuditStorage: AuditStorage {
    private let pool: DatabasePool

    /// `flushEachCommit` sets `synchronous=FULL` on the writer connection: each commit waits
    /// for the WAL on disk, as PostgreSQL's `synchronous_commit=on` does. Off keeps what GRDB
    /// sets in WAL mode and the store uses, `synchronous=NORMAL`.
    init(path: URL, flushEachCommit: Bool = false) throws(DoerError) {
        // Appends wait longer than other writes: a record must never be dropped for a busy file.
        pool = try StoreDatabase.open(path, holding: "the audit trail", busyTimeoutSeconds: 30) { pool in
            // After the pool's WAL set-up, which sets NORMAL; the writer connection keeps it.
            if flushEachCommit { try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") } }
            // A write transaction only when something is missing: a command that records one
            // event (`doer sandbox`) would otherwise commit twice per run. Read on the writer's
            // connection: a pool's first read opens a second connection, which such a command
            // never needs.
            let present = try pool.writeWithoutTransaction { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE name IN (\(Self.schemaObjects.map { "'\($0)'" }.joined(separator: ",")))")
            }
            guard Set(present) != Set(Self.schemaObjects) else { return }
            try pool.write { db in
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS audit (
                        seq INTEGER PRIMARY KEY NOT NULL,
                        time TEXT NOT NULL,
                        sessionId TEXT,
                        kind TEXT NOT NULL,
                        actor TEXT NOT NULL,
                        details TEXT NOT NULL,
                        prevHash TEXT NOT NULL,
                        hash TEXT NOT NULL,
                        hmac TEXT
                    );
                    CREATE INDEX IF NOT EXISTS audit_session ON audit(sessionId);
                    CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
                        BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
                    CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
                        BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
                    """)
            }
        }
    }

    /// The table, index and triggers the audit trail's schema creates.
    static let schemaObjects = ["audit", "audit_session", "audit_no_update", "audit_no_delete"]

    /// SQLite's `synchronous` on the writer connection: 1 NORMAL, 2 FULL.
    func synchronousLevel() throws -> Int {
        try pool.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") ?? -1 }
    }

    func append(_ make: (AuditHead?) throws -> StoredAuditRecord) throws -> StoredAuditRecord {
        try pool.writeWithoutTransaction { db in
            var stored: StoredAuditRecord?
            try db.inTransaction(.immediate) {
                let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
                    .map { AuditHead(seq: $0["seq"], hash: $0["hash"]) }
                let next = try make(head)
                try Self.insert(next, db)
                stored = next
                return .commit
            }
            return stored!
        }
    }

    func records(sessionPrefix: String?) throws -> [StoredAuditRecord] {
        try pool.read { db in
            var sql = "SELECT * FROM audit"
            var arguments: StatementArguments = []
            if let sessionPrefix {
                sql += " WHERE substr(sessionId, 1, length(?)) = ?"
                arguments = [sessionPrefix, sessionPrefix]
            }
            return try Row.fetchAll(db, sql: sql + " ORDER BY seq", arguments: arguments).map { row in
                StoredAuditRecord(seq: row["seq"], time: row["time"], sessionID: row["sessionId"], kind: row["kind"],
                                  actor: row["actor"], details: row["details"], previousHash: row["prevHash"],
                                  hash: row["hash"], hmac: row["hmac"])
            }
        }
    }

    func importRecords(_ records: [StoredAuditRecord]) throws {
        try pool.write { db in
            for record in records { try Self.insert(record, db) }
        }
    }

    private static func insert(_ record: StoredAuditRecord, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO audit (seq, time, sessionId, kind, actor, details, prevHash, hash, hmac)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [record.seq, record.time, record.sessionID, record.kind, record.actor,
                             record.details, record.previousHash, record.hash, record.hmac])
    }
}
