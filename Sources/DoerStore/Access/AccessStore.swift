import Crypto
public import DoerCore
public import Foundation
import GRDB

/// One API token as stored: never the token itself, only its SHA-256.
public struct TokenRecord: Sendable, Hashable {
    public var id: String
    public var user: String
    public var createdAt: Date
    public var revokedAt: Date?
    public var isRevoked: Bool { revokedAt != nil }
}

/// API tokens and which user owns which session, in their own SQLite file beside the
/// sessions (`DataDirectory.accessDatabase`).
///
/// ```swift
/// let store = try AccessStore(path: DataDirectory().accessDatabase)
/// let (token, record) = try store.createToken(user: "ada")   // show `token` once
/// let user = try store.user(forToken: token)                   // "ada", or nil when unknown or revoked
/// ```
public final class AccessStore: Sendable {
    private let pool: DatabasePool

    public init(path: URL) throws(DoerError) {
        pool = try StoreDatabase.open(path, holding: "the access tokens") { try Self.migrator.migrate($0) }
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

    /// User names are folder names and log fields: keep them plain.
    public static func validate(user: String) throws(DoerError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard (1...64).contains(user.count), user.allSatisfy(allowed.contains), user.first != ".", user.first != "-" else {
            throw .invalidArgument("user name '\(user)' must be 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'")
        }
    }

    /// Makes a token for `user`. The token is returned once and never stored.
    public func createToken(user: String) throws(DoerError) -> (token: String, record: TokenRecord) {
        try Self.validate(user: user)
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
        let token = "doer_" + bytes.map { String(format: "%02x", $0) }.joined()
        let record = TokenRecord(id: String(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)), user: user, createdAt: Date(), revokedAt: nil)
        try write { db in
            try db.execute(sql: "INSERT INTO token (id, user, sha256, createdAt) VALUES (?, ?, ?, ?)",
                           arguments: [record.id, user, Self.hash(token), record.createdAt.timeIntervalSince1970])
        }
        return (token, record)
    }

    /// The token's id and user, or nil when it is unknown or revoked.
    public func record(forToken token: String) throws(DoerError) -> TokenRecord? {
        let digest = Self.hash(token)
        return try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM token WHERE sha256 = ? AND revokedAt IS NULL", arguments: [digest])
                .map(Self.record)
        }
    }

    public func tokens() throws(DoerError) -> [TokenRecord] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM token ORDER BY createdAt").map(Self.record) }
    }

    /// Revokes the token whose id is `id`; revoking twice is not an error.
    public func revokeToken(id: String) throws(DoerError) {
        var changed = 0
        try write { db in
            try db.execute(sql: "UPDATE token SET revokedAt = COALESCE(revokedAt, ?) WHERE id = ?",
                           arguments: [Date().timeIntervalSince1970, id])
            changed = db.changesCount
        }
        guard changed > 0 else { throw .invalidArgument("no token with id \(id); `doer token list` shows them") }
    }

    public func setOwner(_ user: String, ofSession sessionID: String) throws(DoerError) {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO sessionOwner (sessionId, user) VALUES (?, ?)", arguments: [sessionID, user])
        }
    }

    public func owner(ofSession sessionID: String) throws(DoerError) -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT user FROM sessionOwner WHERE sessionId = ?", arguments: [sessionID]) }
    }

    public func sessions(ownedBy user: String) throws(DoerError) -> Set<String> {
        try read { db in Set(try String.fetchAll(db, sql: "SELECT sessionId FROM sessionOwner WHERE user = ?", arguments: [user])) }
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    private static func record(_ row: Row) -> TokenRecord {
        let revoked: Double? = row["revokedAt"]
        return TokenRecord(id: row["id"], user: row["user"], createdAt: Date(timeIntervalSince1970: row["createdAt"]),
                           revokedAt: revoked.map(Date.init(timeIntervalSince1970:)))
    }

    private func write(_ body: (Database) throws -> Void) throws(DoerError) {
        do { try pool.write { try body($0) } } catch { throw .configuration("access database: \(error)") }
    }

    private func read<T>(_ body: (Database) throws -> T) throws(DoerError) -> T {
        do { return try pool.read { try body($0) } } catch { throw .configuration("access database: \(error)") }
    }
}

extension DataDirectory {
    /// API tokens (hashed) and session owners for `doer serve`.
    public var accessDatabase: URL { data.appendingPathComponent("access.sqlite") }
}
