import Foundation
import PostgresNIO
import Synchronization

/// The audit chain in PostgreSQL, one chain for every writer on every host. Every append
/// happens under a transaction-scoped advisory lock at READ COMMITTED, after reading the
/// head under that lock: each statement at READ COMMITTED sees everything committed before
/// it began, and the previous holder committed before releasing the lock, so the head read
/// is the true head. The lock is released by COMMIT or ROLLBACK, also when the writer dies
/// (the server ends its transaction). A sequence is never used: its order is not commit
/// order. UNIQUE (seq) and UNIQUE (prev_hash) refuse a fork should the lock ever be bypassed.
///
/// An append is one round trip when this process saw the head last: the record is built
/// from that head and `doer_audit_append` (migration 3) takes the lock, checks the head and
/// inserts in one statement. When another writer got there first the function answers the
/// true head and the record is rebuilt from it; a writer that keeps losing the race falls
/// back to holding the lock across the whole append (BEGIN, lock, head, insert, COMMIT).
final class PostgresAuditStorage: AuditStorage {
    private let pool: PostgresConnectionPool
    /// The head after this process's last append or lost race; nil: the chain is empty or
    /// nothing was seen yet (a wrong guess costs one round trip, never a wrong record).
    private let lastSeenHead = Mutex<AuditHead?>(nil)
    private let appendTurn = Mutex(())
    /// One-statement attempts before an append waits for the lock instead of racing.
    static let optimisticAttempts = 3

    init(pool: PostgresConnectionPool) {
        self.pool = pool
    }

    func append(_ make: (AuditHead?) throws -> StoredAuditRecord) throws -> StoredAuditRecord {
        // Writers of one process take turns here, so they do not race each other for the
        // head; they race only writers elsewhere.
        try appendTurn.withLock { _ in try appendInTurn(make) }
    }

    private func appendInTurn(_ make: (AuditHead?) throws -> StoredAuditRecord) throws -> StoredAuditRecord {
        try pool.withConnection { link in
            var head = lastSeenHead.withLock { $0 }
            for _ in 0..<Self.optimisticAttempts {
                let next = try make(head)
                let answer = try link.query(
                    "SELECT appended, head_seq, head_hash FROM doer_audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    [.int(head?.seq ?? 0), .text(head?.hash)] + Self.values(next))
                guard let row = answer.first else { throw PostgresFailure("doer_audit_append answered nothing") }
                let trueHead = try row[1].int().map { AuditHead(seq: $0, hash: try row[2].text() ?? "") }
                lastSeenHead.withLock { $0 = trueHead }
                if try row[0].bool() == true { return next }
                head = trueHead
            }
            let next = try link.transaction {
                try link.query("SELECT pg_advisory_xact_lock($1)", [.int(PostgresSchema.auditChainLock)])
                let head = try link.query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").first.map { row in
                    AuditHead(seq: try row[0].int() ?? 0, hash: try row[1].text() ?? "")
                }
                let next = try make(head)
                try Self.insert(next, link)
                return next
            }
            lastSeenHead.withLock { $0 = AuditHead(seq: next.seq, hash: next.hash) }
            return next
        }
    }

    func records(sessionPrefix: String?) throws -> [StoredAuditRecord] {
        try pool.withConnection { link in
            let select = "SELECT seq, time, session_id, kind, actor, details, prev_hash, hash, hmac FROM audit"
            let rows = if let sessionPrefix {
                try link.query(select + " WHERE left(session_id, length($1)) = $1 ORDER BY seq", [.text(sessionPrefix)])
            } else {
                try link.query(select + " ORDER BY seq")
            }
            return try rows.map { row in
                StoredAuditRecord(seq: try row[0].int() ?? 0, time: try row[1].text() ?? "", sessionID: try row[2].text(),
                                  kind: try row[3].text() ?? "", actor: try row[4].text() ?? "", details: try row[5].text() ?? "",
                                  previousHash: try row[6].text() ?? "", hash: try row[7].text() ?? "", hmac: try row[8].text())
            }
        }
    }

    func importRecords(_ records: [StoredAuditRecord]) throws {
        try pool.withConnection { link in
            try link.transaction {
                try link.query("SELECT pg_advisory_xact_lock($1)", [.int(PostgresSchema.auditChainLock)])
                for record in records { try Self.insert(record, link) }
            }
        }
    }

    private static func insert(_ record: StoredAuditRecord, _ link: PostgresLink) throws {
        try link.query("""
            INSERT INTO audit (seq, time, session_id, kind, actor, details, prev_hash, hash, hmac)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """, values(record))
    }

    /// A record's columns in table order.
    private static func values(_ record: StoredAuditRecord) -> [PostgresValue] {
        [.int(record.seq), .text(record.time), .text(record.sessionID), .text(record.kind), .text(record.actor),
         .text(record.details), .text(record.previousHash), .text(record.hash), .text(record.hmac)]
    }
}
