import DoerCore
import Foundation
import GRDB

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
            let pool = try DatabasePool(path: path.path, configuration: configuration)
            try prepare(pool)
            return pool
        } catch let error as DoerError {
            throw error
        } catch {
            throw .configuration("cannot open \(contents) in \(path.path): \(error)")
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
