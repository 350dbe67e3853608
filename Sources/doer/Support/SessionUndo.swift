import DoerConfig
import DoerCore
import DoerSandbox
import DoerStore
import Foundation

/// Puts a workspace back as it was before a session's changes were applied, using the undo
/// point the session recorded, and records that it did (so a second undo finds nothing).
enum SessionUndo {
    struct Undone {
        var session: SessionRecord
        var workspace: String
        var paths: [String]
    }

    /// Undoes the newest session with applied changes left to undo: among `ids` (newest
    /// last) when given, otherwise among all recent sessions.
    static func undoLatest(in store: SessionStore, among ids: [String]?) throws(DoerError) -> Undone {
        let sessions: [SessionRecord]
        if let ids {
            var found: [SessionRecord] = []
            for id in ids.reversed() { found.append(try store.session(id)) }
            sessions = found
        } else {
            sessions = try store.sessions(limit: 200)
        }
        for session in sessions {
            var backup: WorkspaceBackup?
            for event in try store.events(of: session.id) {
                switch event {
                case .undoPoint(let point): backup = point
                case .undone: backup = nil
                default: break
                }
            }
            guard let backup else {
                if ids?.count == 1 { throw .invalidArgument("session \(session.id.prefix(8)) has no applied changes to undo") }
                continue
            }
            let restored = try backup.restore()
            try store.append(.undone(paths: restored), to: session.id)
            let configuration = try DoerConfiguration.load()
            try AuditRecorder(log: try AuditSupport.log(configuration), actor: configuration.audit.actor(), session: session.id,
                              workspace: URL(fileURLWithPath: backup.workspace, isDirectory: true)).record(.undone(paths: restored))
            return Undone(session: session, workspace: backup.workspace, paths: restored)
        }
        throw .invalidArgument("no session has applied changes left to undo")
    }
}
