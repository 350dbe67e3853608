public import DoerCore
public import Foundation

/// One agent session as stored.
public struct SessionRecord: Sendable, Hashable {
    public var id: String
    public var task: String
    public var workspace: String
    public var createdAt: Date
    /// nil while the session has not ended (it is running, or it was interrupted).
    public var outcome: String?
    public var message: String?
    public var eventCount: Int
}

/// Sessions and every event of them, written as they happen so that a crash or Ctrl-C
/// loses nothing that was already reported. The rows live in SQLite (the default) or
/// PostgreSQL (`[store] url`); callers see the same store either way.
///
/// ```swift
/// let store = try SessionStore(path: dataDirectory.appendingPathComponent("doer.sqlite"))
/// let session = try store.createSession(task: "add tests", workspace: "/src/app")
/// try store.append(.plan(plan), to: session.id)
/// ```
public final class SessionStore: Sendable {
    public let storage: any SessionStorage

    /// The SQLite file at `path`.
    public convenience init(path: URL) throws(DoerError) {
        self.init(storage: try SQLiteSessionStorage(path: path))
    }

    public init(storage: any SessionStorage) {
        self.storage = storage
    }

    public func createSession(task: String, workspace: String) throws(DoerError) -> SessionRecord {
        let record = SessionRecord(id: UUID().uuidString.lowercased(), task: task, workspace: workspace,
                                   createdAt: Date(), outcome: nil, message: nil, eventCount: 0)
        try run { try storage.insertSession(record) }
        return record
    }

    /// Appends an agent event after the session's last one; a `.done` event also ends the session.
    public func append(_ event: AgentEvent, to sessionID: String) throws(DoerError) {
        try append(SessionEvent.agent(event), to: sessionID)
    }

    /// Appends an event after the session's last one; an agent's `.done` also ends the session.
    public func append(_ event: SessionEvent, to sessionID: String) throws(DoerError) {
        let json: String
        do {
            json = String(decoding: try JSONEncoder().encode(event), as: UTF8.self)
        } catch {
            throw .configuration("cannot encode event: \(error)")
        }
        var ending: (outcome: String, message: String)?
        if case .agent(.done(let summary)) = event { ending = (summary.outcome.rawValue, summary.message) }
        try run {
            try storage.appendEvent(to: sessionID, type: Self.typeName(json), json: json,
                                    createdAt: Date().timeIntervalSince1970, ending: ending)
        }
    }

    /// Marks a session as running again (its earlier outcome is kept in its events).
    public func reopen(_ sessionID: String) throws(DoerError) {
        try run { try storage.reopen(sessionID) }
    }

    public func sessions(limit: Int = 50) throws(DoerError) -> [SessionRecord] {
        try run { try storage.sessions(limit: limit) }
    }

    /// The sessions among `ids`, newest first: one owner's list, which the others' sessions,
    /// however many, never push out.
    public func sessions(ids: Set<String>, limit: Int = 50) throws(DoerError) -> [SessionRecord] {
        try run { try storage.sessions(ids: ids.sorted(), limit: limit) }
    }

    /// The session whose id is `id` or starts with it (unambiguously).
    public func session(_ id: String) throws(DoerError) -> SessionRecord {
        let rows = try run { try storage.sessions(prefix: id.lowercased(), limit: 2) }
        guard let first = rows.first else { throw .invalidArgument("no session \(id); `doer sessions` lists them") }
        guard rows.count == 1 else { throw .invalidArgument("'\(id)' matches several sessions; give more of the id") }
        return first
    }

    /// The session's events, oldest first. An event this version cannot read is left out.
    public func events(of sessionID: String) throws(DoerError) -> [SessionEvent] {
        let stored = try run { try storage.events(of: sessionID) }
        return stored.compactMap { try? JSONDecoder().decode(SessionEvent.self, from: Data($0.json.utf8)) }
    }

    /// The session's events numbered after `seq`, with their stored numbers (the SSE ids),
    /// oldest first. An event this version cannot read is left out; its number is not reused.
    public func events(of sessionID: String, after seq: Int) throws(DoerError) -> [(seq: Int, event: SessionEvent)] {
        let stored = try run { try storage.events(of: sessionID, after: Int64(seq)) }
        return stored.compactMap { row in
            (try? JSONDecoder().decode(SessionEvent.self, from: Data(row.json.utf8))).map { (seq: Int(row.seq), event: $0) }
        }
    }

    private static func typeName(_ json: String) -> String {
        guard let start = json.firstIndex(of: "\""), let end = json[json.index(after: start)...].firstIndex(of: "\"") else { return "unknown" }
        return String(json[json.index(after: start)..<end])
    }

    private func run<T>(_ body: () throws -> T) throws(DoerError) -> T {
        do {
            return try body()
        } catch let error as DoerError {
            throw error
        } catch {
            throw .configuration("session database: \(error)")
        }
    }
}
