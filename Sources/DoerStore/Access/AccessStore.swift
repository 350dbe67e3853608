import Crypto
public import DoerCore
public import Foundation

/// One API token as stored: never the token itself, only its SHA-256.
public struct TokenRecord: Sendable, Hashable {
    public var id: String
    public var user: String
    public var createdAt: Date
    public var revokedAt: Date?
    public var isRevoked: Bool { revokedAt != nil }
}

/// API tokens and which user owns which session: in their own SQLite file beside the
/// sessions (`DataDirectory.accessDatabase`), or in PostgreSQL with the rest of the store.
///
/// ```swift
/// let store = try AccessStore(path: DataDirectory().accessDatabase)
/// let (token, record) = try store.createToken(user: "ada")   // show `token` once
/// let user = try store.user(forToken: token)                   // "ada", or nil when unknown or revoked
/// ```
public final class AccessStore: Sendable {
    public let storage: any AccessStorage

    /// The SQLite file at `path`.
    public convenience init(path: URL) throws(DoerError) {
        self.init(storage: try SQLiteAccessStorage(path: path))
    }

    public init(storage: any AccessStorage) {
        self.storage = storage
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
        try run { try storage.insertToken(StoredToken(record: record, sha256: Self.hash(token))) }
        return (token, record)
    }

    /// The token's id and user, or nil when it is unknown or revoked.
    public func record(forToken token: String) throws(DoerError) -> TokenRecord? {
        try run { try storage.activeToken(sha256: Self.hash(token)) }
    }

    public func tokens() throws(DoerError) -> [TokenRecord] {
        try run { try storage.tokens().map(\.record) }
    }

    /// Whether the token whose id is `id` exists and is not revoked (a team has tens of tokens:
    /// read them all).
    public func isActive(tokenID id: String) throws(DoerError) -> Bool {
        try tokens().contains { $0.id == id && $0.revokedAt == nil }
    }

    /// Revokes the token whose id is `id`; revoking twice is not an error.
    public func revokeToken(id: String) throws(DoerError) {
        let found = try run { try storage.revokeToken(id: id, at: Date().timeIntervalSince1970) }
        guard found else { throw .invalidArgument("no token with id \(id); `doer token list` shows them") }
    }

    public func setOwner(_ user: String, ofSession sessionID: String) throws(DoerError) {
        try run { try storage.setOwner(user, ofSession: sessionID) }
    }

    public func owner(ofSession sessionID: String) throws(DoerError) -> String? {
        try run { try storage.owner(ofSession: sessionID) }
    }

    public func sessions(ownedBy user: String) throws(DoerError) -> Set<String> {
        try run { try storage.sessions(ownedBy: user) }
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    private func run<T>(_ body: () throws -> T) throws(DoerError) -> T {
        do {
            return try body()
        } catch let error as DoerError {
            throw error
        } catch {
            throw .configuration("access database: \(error)")
        }
    }
}

extension DataDirectory {
    /// API tokens (hashed) and session owners for `doer serve`.
    public var accessDatabase: URL { data.appendingPathComponent("access.sqlite") }
}
