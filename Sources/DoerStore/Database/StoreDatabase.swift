import CDoerSQLite
import DoerCore
import Foundation
import GRDB
import GRDBSQLite

/// Opens one of Doer's SQLite files the way every store does: its folder created, writers
/// in other processes waited for (a CLI and a server share the files) rather than failed
/// at once, the schema prepared, and a file that cannot be opened reported by what it holds.
enum StoreDatabase {
    static func open(_ path: URL, holding contents: String, busyTimeoutSeconds: Double = 10,
                     prepare: (DatabasePool) throws -> Void) throws(DoerError) -> DatabasePool {
        do {
            try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.busyMode = .timeout(busyTimeoutSeconds)
            configuration.prepareDatabase { db in try Self.keepWriteAheadLog(db) }
            let pool = try DatabasePool(path: path.path, configuration: configuration)
            try prepare(pool)
            return pool
        } catch let error as DoerError {
            throw error
        } catch {
            throw .configuration("cannot open \(contents) in \(path.path): \(error)")
        }
    }

    /// A command that records one event and exits (`doer sandbox`) closed the file's last
    /// connection, and SQLite then copied the write-ahead log into the database, flushed both
    /// and deleted the log, for the next command to make and flush again: four flushes, about
    /// as long as the sandboxed run itself. The log now stays (persistent WAL) and is
    /// checkpointed as it grows, as in a server. What `synchronous=NORMAL` promises is
    /// unchanged: a power cut may lose the last commits, never the file; `flush_each_commit`
    /// flushes every commit.
    static func keepWriteAheadLog(_ db: Database) throws {
        guard !db.configuration.readonly, let connection = db.sqliteConnection else { return }
        var persist: CInt = 1
        let code = withUnsafeMutablePointer(to: &persist) { sqlite3_file_control(connection, nil, SQLITE_FCNTL_PERSIST_WAL, $0) }
        guard code == SQLITE_OK, doer_sqlite_skip_checkpoint_on_close(UnsafeMutableRawPointer(connection)) == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code == SQLITE_OK ? SQLITE_ERROR : code),
                                message: "cannot keep the write-ahead log")
        }
    }

    /// Applies `migrator`'s missing migrations, refusing a file that a newer Doer already
    /// migrated past what this one knows: writing to it could corrupt what that version keeps.
    static func migrate(_ pool: DatabasePool, with migrator: DatabaseMigrator, holding contents: String, at path: URL) throws {
        let superseded = try pool.read { try migrator.hasBeenSuperseded($0) }
        if superseded {
            let applied = try pool.read { try migrator.appliedIdentifiers($0) }
            throw DoerError.configuration(StoreSchemaError.newer(
                store: "\(contents) in \(path.path)", found: applied.sorted().joined(separator: ", "),
                known: migrator.migrations.joined(separator: ", ")).description)
        }
        try migrator.migrate(pool)
    }
}
