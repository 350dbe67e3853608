import Crypto
public import DoerCore
public import Foundation
import GRDB

/// The append-only, hash-chained audit trail, in the same SQLite file as the sessions.
///
/// ```swift
/// let log = try AuditLog(path: directories.sessionDatabase, key: try settings.audit.resolvedKey())
/// try log.append(.approval, session: id, actor: "ana", details: ["approved": true])
/// let verification = try log.verify()   // firstBreak names the first record that does not fit
/// ```
///
/// Appends run in one IMMEDIATE transaction each (read the head, insert the next record),
/// so writers in several processes are serialized by SQLite's write lock and a crash
/// leaves either the whole record or none of it.
public final class AuditLog: Sendable {
    private let pool: DatabasePool
    private let keyData: Data?
    private var key: SymmetricKey? { keyData.map { SymmetricKey(data: $0) } }
    private let redactor: SecretRedactor

    public init(path: URL, key: Data? = nil, redactor: SecretRedactor = SecretRedactor()) throws(DoerError) {
        self.keyData = key
        self.redactor = redactor
        // Appends wait longer than other writes: a record must never be dropped for a busy file.
        pool = try StoreDatabase.open(path, holding: "the audit trail", busyTimeoutSeconds: 30) { pool in
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

    public var isSigned: Bool { keyData != nil }

    /// Appends one record after the current head; secrets in `details` are redacted first.
    @discardableResult
    public func append(_ kind: AuditKind, session: String? = nil, actor: String, details: AuditValue = [:]) throws(DoerError) -> AuditRecord {
        try append(kind: kind.rawValue, session: session, actor: actor, details: details)
    }

    @discardableResult
    public func append(kind: String, session: String?, actor: String, details: AuditValue) throws(DoerError) -> AuditRecord {
        let cleanDetails = redactor.redact(details)
        let cleanActor = redactor.redact(actor)
        let key = self.key
        do {
            return try pool.writeWithoutTransaction { db in
                var record: AuditRecord?
                try db.inTransaction(.immediate) {
                    let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
                    var next = AuditRecord(
                        seq: (head?["seq"] as Int64? ?? 0) + 1, time: Self.timestamp(), sessionID: session, kind: kind,
                        actor: cleanActor, details: cleanDetails, previousHash: head?["hash"] ?? AuditRecord.genesis,
                        hash: "", hmac: nil)
                    let canonical = Data(next.canonicalJSON.utf8)
                    next.hash = Self.hex(SHA256.hash(data: canonical))
                    next.hmac = key.map { Self.hex(HMAC<SHA256>.authenticationCode(for: canonical, using: $0)) }
                    try db.execute(sql: """
                        INSERT INTO audit (seq, time, sessionId, kind, actor, details, prevHash, hash, hmac)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [next.seq, next.time, next.sessionID, next.kind, next.actor,
                                         next.details.canonicalJSON, next.previousHash, next.hash, next.hmac])
                    record = next
                    return .commit
                }
                return record!
            }
        } catch {
            throw .configuration("cannot append to the audit trail: \(error)")
        }
    }

    /// Records in chain order; `session` keeps those of one session (an id or its start).
    public func records(session: String? = nil, limit: Int? = nil) throws(DoerError) -> [AuditRecord] {
        do {
            return try pool.read { db in
                var sql = "SELECT * FROM audit"
                var arguments: StatementArguments = []
                if let session {
                    sql += " WHERE sessionId LIKE ? || '%'"
                    arguments = [session.lowercased()]
                }
                sql += " ORDER BY seq"
                let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
                let records = try rows.map(Self.record)
                if let limit { return Array(records.suffix(limit)) }
                return records
            }
        } catch {
            throw .configuration("cannot read the audit trail: \(error)")
        }
    }

    /// Walks the whole chain. A key given here (or to `init`) also checks every signature.
    public func verify() throws(DoerError) -> AuditVerification {
        let rows: [Row]
        do {
            rows = try pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY seq") }
        } catch {
            throw .configuration("cannot read the audit trail: \(error)")
        }
        var previousHash = AuditRecord.genesis
        var expectedSeq: Int64 = 1
        func broken(_ seq: Int64, _ reason: String) -> AuditVerification {
            AuditVerification(records: rows.count, head: previousHash, signed: keyData != nil,
                              firstBreak: .init(seq: seq, reason: reason))
        }
        for row in rows {
            let seq: Int64 = row["seq"]
            let record: AuditRecord
            do {
                record = try Self.record(row)
            } catch {
                return broken(seq, "its details are not valid JSON (\(error)); the record was edited")
            }
            if record.previousHash != previousHash {
                let cause = seq != expectedSeq
                    ? "expected record \(expectedSeq) here; a record was deleted, inserted or moved"
                    : "it does not point to the record before it; a record before it was deleted, inserted, moved or edited"
                return broken(seq, cause)
            }
            if seq != expectedSeq {
                return broken(seq, "expected record \(expectedSeq) here; a record was deleted, inserted or moved")
            }
            let canonical = Data(record.canonicalJSON.utf8)
            if Self.hex(SHA256.hash(data: canonical)) != record.hash {
                return broken(seq, "its content does not match its hash; the record was edited")
            }
            if let key {
                guard let hmac = record.hmac else { return broken(seq, "it is not signed, but a key is configured") }
                if Self.hex(HMAC<SHA256>.authenticationCode(for: canonical, using: key)) != hmac {
                    return broken(seq, "HMAC mismatch: signed with another key, or rewritten by someone without the key")
                }
            }
            previousHash = record.hash
            expectedSeq = seq + 1
        }
        return AuditVerification(records: rows.count, head: previousHash, signed: keyData != nil, firstBreak: nil)
    }

    private static func record(_ row: Row) throws -> AuditRecord {
        AuditRecord(seq: row["seq"], time: row["time"], sessionID: row["sessionId"], kind: row["kind"],
                    actor: row["actor"], details: try AuditValue.parse(row["details"]),
                    previousHash: row["prevHash"], hash: row["hash"], hmac: row["hmac"])
    }

    private static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}
