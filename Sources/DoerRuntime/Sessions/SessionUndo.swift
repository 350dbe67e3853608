public import DoerCore
public import DoerStore
import DoerConfig
import DoerSandbox
import Foundation

/// Puts a workspace back as it was before a session's changes were applied, using the undo
/// point the session recorded, and records that it did (in the session and the audit
/// trail), so a second undo finds nothing.
public struct SessionUndo: Sendable {
    public struct Undone: Sendable {
        public var session: SessionRecord
        public var workspace: String
        public var paths: [String]
    }

    public let store: SessionStore
    public let audit: AuditLog
    /// Who the audit records name when no one else is given.
    public let defaultActor: String

    /// Needs no sandbox and no model: `doer undo` works where neither is available.
    public init(store: SessionStore, audit: AuditLog, defaultActor: String) {
        self.store = store
        self.audit = audit
        self.defaultActor = defaultActor
    }

    public init(runtime: Runtime) {
        self.init(store: runtime.store, audit: runtime.audit, defaultActor: runtime.configuration.audit.actor())
    }

    /// Undoes the newest session with applied changes left to undo: among `ids` (newest
    /// last) when given, otherwise among all recent sessions.
    public func undoLatest(among ids: [String]?, actor: String? = nil) throws(DoerError) -> Undone {
        let sessions: [SessionRecord]
        if let ids {
            var found: [SessionRecord] = []
            for id in ids.reversed() { found.append(try store.session(id)) }
            sessions = found
        } else {
            sessions = try store.sessions(limit: 200)
        }
        for session in sessions {
            guard let backup = try SessionHistory(of: session.id, in: store).pendingUndo else {
                if ids?.count == 1 { throw .invalidArgument("session \(session.id.prefix(8)) has no applied changes to undo") }
                continue
            }
            let restored = try backup.restore()
            let event = SessionEvent.undone(paths: restored)
            try store.append(event, to: session.id)
            try AuditRecorder(log: audit, actor: actor ?? defaultActor, session: session.id,
                              workspace: URL(fileURLWithPath: backup.workspace, isDirectory: true)).record(event)
            return Undone(session: session, workspace: backup.workspace, paths: restored)
        }
        throw .invalidArgument("no session has applied changes left to undo")
    }
}
