public import DoerCore
import Foundation

/// The `[store]` table: which engine holds sessions, tokens and the audit trail.
///
/// ```toml
/// [store]
/// url = "postgres://doer@/doer?host=/run/postgresql"   # or DOER_STORE_URL; absent: SQLite in the data folder
/// synchronous_commit = "on"                             # or DOER_STORE_SYNCHRONOUS_COMMIT; PostgreSQL only
/// ```
public struct StoreSettings: Sendable, Equatable {
    /// A `postgres://` URL, or nil for the embedded SQLite files under the data directory.
    public var url: String?
    /// PostgreSQL's `synchronous_commit` on every connection the store opens. On (the default):
    /// a commit returns once its WAL is on disk, so an audit record that was reported written
    /// survives a power loss. Off: a commit returns before the flush; an application crash
    /// still loses nothing and nothing is ever corrupted, but an OS crash or power loss can
    /// lose the last commits (up to three times `wal_writer_delay`, 0.6 s by default) — the
    /// trade SQLite's WAL mode with `synchronous=NORMAL`, the embedded store's, makes.
    public var synchronousCommit: Bool

    public init(url: String? = nil, synchronousCommit: Bool = true) {
        self.url = url
        self.synchronousCommit = synchronousCommit
    }

    /// Checks the URL's form now, so a typo is reported where it was written.
    public func validate(source: String) throws(DoerError) {
        guard let url else { return }
        guard PostgresAddress.isPostgres(url) else {
            throw .configuration("\(source): store url must start with postgres:// (or be left out for SQLite), not \(PostgresAddress.redacted(url))")
        }
        _ = try PostgresAddress(url: url)
    }

    /// `"on"` or `"off"`, as PostgreSQL spells the setting; anything else is refused, naming
    /// `source` (the variable, or the file and key).
    public static func synchronousCommit(_ text: String, source: String) throws(DoerError) -> Bool {
        switch text {
        case "on": return true
        case "off": return false
        default:
            throw .configuration("\(source) must be \"on\" (each commit waits for the disk, the default) "
                + "or \"off\" (commits do not wait; an OS crash can lose the last ones), not \"\(text)\"")
        }
    }

    /// What the store is, for messages: never the password.
    public func describe(directories: DataDirectory) -> String {
        guard let url, let address = try? PostgresAddress(url: url) else { return "SQLite in \(directories.data.path)" }
        return "PostgreSQL at \(address)" + (synchronousCommit ? "" : " (synchronous_commit off)")
    }
}
