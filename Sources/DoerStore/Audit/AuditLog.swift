import Crypto
public import DoerCore
public import Foundation

/// The append-only, hash-chained audit trail: in the same SQLite file as the sessions, or
/// in PostgreSQL (`[store] url`). Hashes, signatures and verification live here, so both
/// engines keep and check the same chain.
///
/// ```swift
/// let log = try AuditLog(path: directories.sessionDatabase, key: try settings.audit.resolvedKey())
/// try log.append(.approval, session: id, actor: "ana", details: ["approved": true])
/// let verification = try log.verify()   // firstBreak names the first record that does not fit
/// ```
///
/// Each append reads the head and inserts the next record in one transaction under the
/// engine's lock (SQLite's write lock; a PostgreSQL advisory lock), so writers in several
/// processes or hosts form one chain and a crash leaves either the whole record or none.
public final class AuditLog: Sendable {
    public let storage: any AuditStorage
    private let keyData: Data?
    private var key: SymmetricKey? { keyData.map { SymmetricKey(data: $0) } }
    private let redactor: SecretRedactor

    /// The SQLite file at `path`. `flushEachCommit` opens it with `synchronous=FULL` instead of
    /// the store's NORMAL (`doer bench store` measures both).
    public convenience init(path: URL, key: Data? = nil, redactor: SecretRedactor = SecretRedactor(),
                            flushEachCommit: Bool = false) throws(DoerError) {
        self.init(storage: try SQLiteAuditStorage(path: path, flushEachCommit: flushEachCommit), key: key, redactor: redactor)
    }

    public init(storage: any AuditStorage, key: Data? = nil, redactor: SecretRedactor = SecretRedactor()) {
        self.storage = storage
        self.keyData = key
        self.redactor = redactor
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
        let stored: StoredAuditRecord
        do {
            stored = try storage.append { head in
                var next = AuditRecord(
                    seq: (head?.seq ?? 0) + 1, time: Self.timestamp(), sessionID: session, kind: kind,
                    actor: cleanActor, details: cleanDetails, previousHash: head?.hash ?? AuditRecord.genesis,
                    hash: "", hmac: nil)
                let canonical = Data(next.canonicalJSON.utf8)
                next.hash = Self.hex(SHA256.hash(data: canonical))
                next.hmac = key.map { Self.hex(HMAC<SHA256>.authenticationCode(for: canonical, using: $0)) }
                return StoredAuditRecord(seq: next.seq, time: next.time, sessionID: next.sessionID, kind: next.kind,
                                         actor: next.actor, details: next.details.canonicalJSON, previousHash: next.previousHash,
                                         hash: next.hash, hmac: next.hmac)
            }
        } catch {
            throw .configuration("cannot append to the audit trail: \(error)")
        }
        return AuditRecord(seq: stored.seq, time: stored.time, sessionID: stored.sessionID, kind: stored.kind,
                           actor: stored.actor, details: cleanDetails, previousHash: stored.previousHash,
                           hash: stored.hash, hmac: stored.hmac)
    }

    /// Records in chain order; `session` keeps those of one session (an id or its start).
    public func records(session: String? = nil, limit: Int? = nil) throws(DoerError) -> [AuditRecord] {
        do {
            let records = try storage.records(sessionPrefix: session?.lowercased()).map(Self.record)
            if let limit { return Array(records.suffix(limit)) }
            return records
        } catch {
            throw .configuration("cannot read the audit trail: \(error)")
        }
    }

    /// Walks the whole chain. A key given here (or to `init`) also checks every signature.
    public func verify() throws(DoerError) -> AuditVerification {
        let rows: [StoredAuditRecord]
        do {
            rows = try storage.records(sessionPrefix: nil)
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
            let seq = row.seq
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

    private static func record(_ row: StoredAuditRecord) throws -> AuditRecord {
        AuditRecord(seq: row.seq, time: row.time, sessionID: row.sessionID, kind: row.kind,
                    actor: row.actor, details: try AuditValue.parse(row.details),
                    previousHash: row.previousHash, hash: row.hash, hmac: row.hmac)
    }

    /// `2026-12-07T23:10:37.123Z`, milliseconds cut. The format style is Foundation's own
    /// code; `ISO8601DateFormatter` loads ICU first (a first use took 2.0–2.5 ms here against
    /// 1.0–1.3 ms), paid by every command that records one event.
    static func timestamp(_ date: Date = Date()) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}
