import Foundation
import PostgresNIO

/// The audit chain in PostgreSQL, one chain for every writer on every host. An append
/// takes a transaction-scoped advisory lock at READ COMMITTED, then reads the head: each
/// statement at READ COMMITTED sees everything committed before it began, and the previous
/// holder committed before releasing the lock, so the head read is the true head. The
/// lock is released by COMMIT or ROLLBACK, also when the writer dies (the server ends its
/// transaction). A sequence is never used: its order is not commit order. UNIQUE (seq)
/// and UNIQUE (prev_hash) refuse a fork should the lock ever be bypassed.
final class PostgresAuditStorage: AuditStorage {
    private let pool: PostgresConnectionPool

    init(pool: PostgresConnectionPool) {
        self.pool = pool
    }

    func append(_ make: (AuditHead?) throws -> StoredAuditRecord) throws -> StoredAuditRecord {
        try pool.withConnection { link in
            try link.transaction {
                try link.query("SELECT pg_advisory_xact_lock($1)", [.int(PostgresSchema.auditChainLock)])
                let head = try link.query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").first.map { row in
                    AuditHead(seq: try row[0].int() ?? 0, hash: try row[1].text() ?? "")
                }
                let next = try make(head)
                try Self.insert(next, link)
                return next
            }
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
            """, [.int(record.seq), .text(record.time), .text(record.sessionID), .text(record.kind), .text(record.actor),
                  .text(record.details), .text(record.previousHash), .text(record.hash), .text(record.hmac)])
    }
}
