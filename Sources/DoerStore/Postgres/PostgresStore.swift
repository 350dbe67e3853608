public import DoerCore
import Foundation
import PostgresNIO

/// One PostgreSQL database holding everything `doer` stores: sessions and events, tokens
/// and owners, the audit chain. Opening it connects once, applies missing migrations and
/// refuses a schema newer than this version knows.
///
/// ```swift
/// let postgres = try PostgresStore(url: "postgres://doer@/doer?host=/run/postgresql")
/// let sessions = SessionStore(storage: postgres.sessions)
/// let audit = AuditLog(storage: postgres.audit, key: key)
/// ```
public final class PostgresStore: Sendable {
    public let address: PostgresAddress
    public let sessions: any SessionStorage
    public let audit: any AuditStorage
    public let access: any AccessStorage
    let pool: PostgresConnectionPool

    public convenience init(url: String) throws(DoerError) {
        try self.init(address: PostgresAddress(url: url))
    }

    /// `synchronousCommit` is PostgreSQL's setting of that name on every connection opened
    /// (`StoreSettings.synchronousCommit`): on waits for each commit's WAL on disk.
    public init(address: PostgresAddress, connections: Int = 8, synchronousCommit: Bool = true) throws(DoerError) {
        self.address = address
        pool = PostgresConnectionPool(address: address, limit: connections, synchronousCommit: synchronousCommit)
        do {
            try Self.migrate(pool)
        } catch let error as DoerError {
            throw error
        } catch {
            throw .configuration("store \(address): \(error)")
        }
        sessions = PostgresSessionStorage(pool: pool)
        audit = PostgresAuditStorage(pool: pool)
        access = PostgresAccessStorage(pool: pool)
    }

    /// The schema version the database is at (0 for an empty one).
    public func schemaVersion() throws(DoerError) -> Int {
        do {
            return try pool.withConnection { link in try Self.version(link) }
        } catch {
            throw .configuration("store \(address): \(error)")
        }
    }

    /// A run-time parameter as this store's connections see it (`SHOW name`), e.g.
    /// `synchronous_commit`.
    public func setting(_ name: String) throws(DoerError) -> String {
        do {
            return try pool.withConnection { link in
                try link.query("SELECT current_setting($1)", [.text(name)]).first?[0].text() ?? ""
            }
        } catch {
            throw .configuration("store \(address): \(error)")
        }
    }

    /// Closes the connections; the stores made from this one stop working.
    public func close() { pool.close() }

    static func migrate(_ pool: PostgresConnectionPool) throws {
        try pool.withConnection { link in
            try link.transaction {
                try link.query("SELECT pg_advisory_xact_lock($1)", [.int(PostgresSchema.migrationLock)])
                try link.query("""
                    CREATE TABLE IF NOT EXISTS doer_schema_version (
                        version INTEGER PRIMARY KEY,
                        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                    )
                    """)
                let current = try version(link)
                guard current <= PostgresSchema.latest else {
                    throw DoerError.configuration(StoreSchemaError.newer(
                        store: "the PostgreSQL store \(pool.address)", found: "version \(current)",
                        known: "up to version \(PostgresSchema.latest)").description)
                }
                for version in (current + 1)..<(PostgresSchema.latest + 1) {
                    try link.script(PostgresSchema.migrations[version - 1])
                    try link.query("INSERT INTO doer_schema_version (version) VALUES ($1)", [.int(Int64(version))])
                }
            }
        }
    }

    private static func version(_ link: PostgresLink) throws -> Int {
        let rows = try link.query("SELECT COALESCE(MAX(version), 0)::BIGINT FROM doer_schema_version")
        return Int(try rows.first?[0].int() ?? 0)
    }
}
