/// An audit record as a store holds it: `details` is kept as the text that was hashed,
/// so a verifier sees an edit even when it leaves the JSON unreadable.
public struct StoredAuditRecord: Sendable, Hashable {
    public var seq: Int64
    public var time: String
    public var sessionID: String?
    public var kind: String
    public var actor: String
    public var details: String
    public var previousHash: String
    public var hash: String
    public var hmac: String?

    public init(seq: Int64, time: String, sessionID: String?, kind: String, actor: String, details: String,
                previousHash: String, hash: String, hmac: String?) {
        self.seq = seq
        self.time = time
        self.sessionID = sessionID
        self.kind = kind
        self.actor = actor
        self.details = details
        self.previousHash = previousHash
        self.hash = hash
        self.hmac = hmac
    }
}

/// The last record of the chain: what the next one points to.
public struct AuditHead: Sendable, Hashable {
    public var seq: Int64
    public var hash: String
}

/// Where `AuditLog` keeps its chain: SQLite or PostgreSQL. The log computes hashes and
/// verifies; an engine guarantees that appends are serialized across processes and
/// hosts, so each record is built from the true head and none is lost or forked.
///
/// ```swift
/// let log = AuditLog(storage: postgres.audit, key: key)
/// try log.append(.note, actor: "ana")
/// ```
public protocol AuditStorage: Sendable {
    /// Calls `make` with the current head (nil for an empty chain) while holding the
    /// chain's lock, stores what it returns, and commits before the lock is released.
    func append(_ make: (AuditHead?) throws -> StoredAuditRecord) throws -> StoredAuditRecord
    /// In chain order; `sessionPrefix` keeps the records whose session id starts with it.
    func records(sessionPrefix: String?) throws -> [StoredAuditRecord]
    /// Copies records as they are, hashes and all (`doer store migrate`); the chain must be empty.
    func importRecords(_ records: [StoredAuditRecord]) throws
}
