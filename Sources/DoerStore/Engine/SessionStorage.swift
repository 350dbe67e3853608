public import Foundation

/// One event as a store holds it: its place in the session, its kind and its JSON.
public struct StoredEvent: Sendable, Hashable {
    public var seq: Int64
    public var type: String
    public var json: String
    public var createdAt: Double

    public init(seq: Int64, type: String, json: String, createdAt: Double) {
        self.seq = seq
        self.type = type
        self.json = json
        self.createdAt = createdAt
    }
}

/// Where `SessionStore` keeps sessions and their events: SQLite or PostgreSQL. The store
/// encodes and decodes events; an engine keeps rows and numbers each session's events.
///
/// ```swift
/// let store = SessionStore(storage: try PostgresStore(url: "postgres://doer@/doer?host=/run/postgresql").sessions)
/// ```
public protocol SessionStorage: Sendable {
    func insertSession(_ record: SessionRecord) throws
    /// Appends after the session's last event (numbered from 1, with no gap, also with
    /// writers in other processes); `ending` also records the session's outcome.
    func appendEvent(to sessionID: String, type: String, json: String, createdAt: Double,
                     ending: (outcome: String, message: String)?) throws
    func reopen(_ sessionID: String) throws
    /// Newest first.
    func sessions(limit: Int) throws -> [SessionRecord]
    /// The sessions among `ids`, newest first, at most `limit` (one owner's, whatever the others have).
    func sessions(ids: [String], limit: Int) throws -> [SessionRecord]
    /// Sessions whose id starts with `prefix`, at most `limit`.
    func sessions(prefix: String, limit: Int) throws -> [SessionRecord]
    /// Oldest first.
    func events(of sessionID: String) throws -> [StoredEvent]
    /// The events numbered after `seq`, oldest first (what a follower has not seen yet).
    func events(of sessionID: String, after seq: Int64) throws -> [StoredEvent]
    /// Copies a session and its events as they are (`doer store migrate`).
    func importSession(_ record: SessionRecord, events: [StoredEvent]) throws
}

extension SessionStorage {
    /// Every event, filtered here: right for an engine whose reads are local and cheap.
    public func events(of sessionID: String, after seq: Int64) throws -> [StoredEvent] {
        try events(of: sessionID).filter { $0.seq > seq }
    }
}
