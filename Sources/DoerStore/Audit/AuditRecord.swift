import Foundation

/// What a record is about. Raw values are what the database and the JSONL export hold.
public enum AuditKind: String, Sendable, Hashable, Codable, CaseIterable {
    case sessionStarted = "session.started"
    case sessionEnded = "session.ended"
    case plan
    case action
    case sandboxRun = "sandbox.run"
    case tests
    /// Whether a change was shown to do what was asked: its tests red before, green after.
    case evidence
    case approvalRequested = "approval.requested"
    case approval
    case filesChanged = "files.changed"
    case filesRestored = "files.restored"
    case commit = "git.commit"
    case push = "git.push"
    case pullRequest = "pull-request"
    case ciTrigger = "ci.trigger"
    case ciStatus = "ci.status"
    case deployRefused = "deploy.refused"
    case network
    case note
}

/// One link of the chain. `hash` is the SHA-256 of `canonicalJSON`, which includes
/// `previousHash`, so changing, removing, inserting or moving any record breaks every
/// link after it.
public struct AuditRecord: Sendable, Hashable {
    /// The hash the first record points back to.
    public static let genesis = String(repeating: "0", count: 64)

    public var seq: Int64
    /// ISO 8601 with milliseconds, UTC; kept as text so it hashes the same after reading.
    public var time: String
    public var sessionID: String?
    public var kind: String
    public var actor: String
    public var details: AuditValue
    public var previousHash: String
    public var hash: String
    /// HMAC-SHA256 of `canonicalJSON` under the configured key, when one is configured.
    public var hmac: String?

    public init(seq: Int64, time: String, sessionID: String?, kind: String, actor: String, details: AuditValue,
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

    /// The bytes the hash and the signature cover: every field but the two themselves.
    public var canonicalJSON: String {
        AuditValue.object([
            "seq": .int(seq), "time": .string(time), "session": sessionID.map(AuditValue.string) ?? .null,
            "kind": .string(kind), "actor": .string(actor), "details": details, "prev": .string(previousHash),
        ]).canonicalJSON
    }

    /// The record as one line of the JSONL export.
    public var exported: AuditValue {
        .object([
            "seq": .int(seq), "time": .string(time), "session": sessionID.map(AuditValue.string) ?? .null,
            "kind": .string(kind), "actor": .string(actor), "details": details, "prev": .string(previousHash),
            "hash": .string(hash), "hmac": hmac.map(AuditValue.string) ?? .null,
        ])
    }
}
