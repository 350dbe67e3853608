import DoerCore
import Foundation
import GRDB

/// Token hashes and session owners in their own SQLite file beside the sessions.
final class SQLiteAccessStorage: AccessStorage {
    private let pool: DatabasePool

    init(path: URL) throws(DoerError) {
        pool = try StoreDatabase.open(path, holding: "the access tokens") { pool in
            try StoreDatabase.migrate(pool, with: Self.migrator, holding: "the access tokens", at: path)
        }
        // Token hashes are not secrets, but nobody else needs to read them.
        chmod(path.path, 0o600)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "token") { t in
                t.primaryKey("id", .text)
                t.column("user", .text).notNull()
                t.column("sha256", .text).notNull().unique()
                t.column("createdAt", .double).notNull()
                t.column("revokedAt", .double)
            }
            try db.create(table: "sessionOwner") { t in
                t.primaryKey("sessionId", .text)
                t.column("user", .text).notNull().indexed()
            }
        }
        return migrator
    }

    func insertToken(_ token: StoredToken) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT INTO token (id, user, sha256, createdAt, revokedAt) VALUES (?, ?, ?, ?, ?)",
                           arguments: [token.record.id, token.record.user, token.sha256,
                                       token.record.createdAt.timeIntervalSince1970,
                                       token.record.revokedAt?.timeIntervalSince1970])
        }
    }

    func activeToken(sha256: String) throws -> TokenRecord? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM token WHERE sha256 = ? AND revokedAt IS NULL", arguments: [sha256])
                .map { Self.token($0).record }
        }
    }

    func tokens() throws -> [StoredToken] {
        try pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM token ORDER BY createdAt").map(Self.token) }
    }

    func revokeToken(id: String, at time: Double) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "UPDATE token SET revokedAt = COALESCE(revokedAt, ?) WHERE id = ?", arguments: [time, id])
            return db.changesCount > 0
        }
    }

    func setOwner(_ user: String, ofSession sessionID: String) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO sessionOwner (sessionId, user) VALUES (?, ?)", arguments: [sessionID, user])
        }
    }

    func owner(ofSession sessionID: String) throws -> String? {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT user FROM sessionOwner WHERE sessionId = ?", arguments: [sessionID]) }
    }

    func sessions(ownedBy user: String) throws -> Set<String> {
        try pool.read { db in Set(try String.fetchAll(db, sql: "SELECT sessionId FROM sessionOwner WHERE user = ?", arguments: [user])) }
    }

    func owners() throws -> [(session: String, user: String)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT sessionId, user FROM sessionOwner ORDER BY sessionId").map { ($0["sessionId"], $0["user"]) }
        }
    }

    private static func token(_ row: Row) -> StoredToken {
        let revoked: Double? = row["revokedAt"]
        return StoredToken(record: TokenRecord(id: row["id"], user: row["user"], createdAt: Date(timeIntervalSince1970: row["createdAt"]),
                                               revokedAt: revoked.map(Date.init(timeIntervalSince1970:))),
                           sha256: row["sha256"])
    }
}
