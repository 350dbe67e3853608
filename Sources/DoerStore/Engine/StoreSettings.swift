public import DoerCore
import Foundation

/// The `[store]` table: which engine holds sessions, tokens and the audit trail.
///
/// ```toml
/// [store]
/// url = "postgres://doer@/doer?host=/run/postgresql"   # or DOER_STORE_URL; absent: SQLite in the data folder
/// ```
public struct StoreSettings: Sendable, Equatable {
    /// A `postgres://` URL, or nil for the embedded SQLite files under the data directory.
    public var url: String?

    public init(url: String? = nil) {
        self.url = url
    }

    /// Checks the URL's form now, so a typo is reported where it was written.
    public func validate(source: String) throws(DoerError) {
        guard let url else { return }
        guard PostgresAddress.isPostgres(url) else {
            throw .configuration("\(source): store url must start with postgres:// (or be left out for SQLite), not \(PostgresAddress.redacted(url))")
        }
        _ = try PostgresAddress(url: url)
    }

    /// What the store is, for messages: never the password.
    public func describe(directories: DataDirectory) -> String {
        guard let url, let address = try? PostgresAddress(url: url) else { return "SQLite in \(directories.data.path)" }
        return "PostgreSQL at \(address)"
    }
}
